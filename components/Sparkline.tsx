/** One line of a sparkline: its values (null breaks the line) and a CSS class for its colour. */
export interface SparkSeries {
  values: (number | null)[];
  class: string;
}

const W = 120;
const H = 32;

/** SVG path of values on fixed slots, so a new point shifts the line left instead of squeezing it. */
function path(values: (number | null)[], slots: number, max: number): string {
  const step = W / Math.max(1, slots - 1);
  const offset = slots - values.length;
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = (offset + i) * step;
    const y = H - 1 - (Math.min(Math.max(v, 0), max) / max) * (H - 2);
    d += `${pen ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
  });
  return d;
}

/**
 * A tiny inline SVG line chart of the last `slots` values per series (0 to `max`), scaled to its
 * box. No script and no library: the server draws it, and the fleet island redraws it per sample.
 */
export function Sparkline(
  { series, slots = 60, max = 100, label, lastT }: {
    series: SparkSeries[];
    slots?: number;
    max?: number;
    label: string;
    /** Time of the newest point, for tests and curious humans. */
    lastT?: number | null;
  },
) {
  return (
    <svg
      class="sparkline"
      viewBox={`0 0 ${W} ${H}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
      data-points={series[0]?.values.length ?? 0}
      data-last-t={lastT ?? undefined}
    >
      {series.map((s) => <path key={s.class} class={s.class} d={path(s.values, slots, max)} />)}
    </svg>
  );
}
