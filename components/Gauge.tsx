import type { ComponentChildren } from "preact";

/** Colour of a fill: warn from 80 %, error from 90 %. */
function tone(fill: number | null): string {
  if (fill === null) return "gauge-none";
  return fill >= 90 ? "gauge-error" : fill >= 80 ? "gauge-warn" : "gauge-ok";
}

/**
 * A half-ring gauge: `fill` (0–100, null when unknown) draws the arc, `value` is the figure in
 * its middle and `detail` a line under it. `pathLength` lets the arc be drawn in percent.
 */
export function Gauge(
  { label, fill, value, detail, id }: {
    label: string;
    fill: number | null;
    value: string;
    detail?: ComponentChildren;
    id?: string;
  },
) {
  const f = fill === null ? 0 : Math.min(100, Math.max(0, fill));
  return (
    <div class={`card gauge ${tone(fill)}`} data-gauge={id}>
      <svg viewBox="0 0 100 56" class="gauge-arc" aria-hidden="true">
        <path class="gauge-track" d="M8 50 A42 42 0 0 1 92 50" pathLength={100} />
        <path
          class="gauge-fill"
          d="M8 50 A42 42 0 0 1 92 50"
          pathLength={100}
          stroke-dasharray={`${f} 100`}
        />
      </svg>
      <span class="gauge-value">{value}</span>
      <span class="gauge-label">{label}</span>
      {detail && <span class="stat-detail">{detail}</span>}
    </div>
  );
}
