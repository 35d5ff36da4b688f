// Chart.js line charts over time for the host page, registered piece by piece so the bundle
// carries only what a line chart on linear axes needs (no time adapter: the x axis is plain
// milliseconds with our own tick placement and labels). Loaded with a dynamic import from the
// HostCharts island, so server rendering never touches it.
import {
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  type Scale,
  Tooltip,
} from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

/** A point of a line: time in ms, value (null breaks the line). */
export interface XY {
  x: number;
  y: number | null;
}

/** How a line looks. */
export interface LineStyle {
  label: string;
  color: string;
  dashed?: boolean;
}

/** A chart of several lines over a time window. */
export interface HistoryChart {
  /** Replaces every line's points and the window. */
  set(lines: XY[][], from: number, to: number): void;
  /** Adds one point per line at `t` and slides the window so it ends at `t` and starts at `from`. */
  append(t: number, values: (number | null)[], from: number): void;
  destroy(): void;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

/** Round-number time ticks (local time) so labels read 14:00, 14:15… rather than 14:03:27. */
function timeTicks(min: number, max: number, most: number): number[] {
  const step = STEPS.find((s) => (max - min) / s <= most) ?? STEPS.at(-1)!;
  const offset = new Date(min).getTimezoneOffset() * MINUTE;
  let t = Math.ceil((min - offset) / step) * step + offset;
  const out: number[] = [];
  for (; t <= max; t += step) out.push(t);
  return out;
}

function timeLabel(t: number, span: number): string {
  const d = new Date(t);
  if (span <= 2 * DAY) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

/** Lone points (a gap on both sides, or a line of one point) get a dot; lines alone stay clean. */
function isolatedRadius(ctx: { dataIndex: number; dataset: { data: unknown[] } }): number {
  const d = ctx.dataset.data as (XY | undefined)[];
  const i = ctx.dataIndex;
  const gap = (p: XY | undefined) => !p || p.y === null;
  return gap(d[i - 1]) && gap(d[i + 1]) ? 2 : 0;
}

/** Creates a chart in `canvas`; `format` writes values on the y axis and in tooltips. */
export function createHistoryChart(
  canvas: HTMLCanvasElement,
  opts: {
    lines: LineStyle[];
    grid: string;
    text: string;
    format: (v: number) => string;
    /** Labels of the y axis, when they should read shorter than `format` (whole percents). */
    tick?: (v: number) => string;
    /** Upper bound the y axis starts from (it grows with the data). */
    suggestedMax?: number;
  },
): HistoryChart {
  const data: XY[][] = opts.lines.map(() => []);
  const chart = new Chart(canvas, {
    type: "line",
    data: {
      datasets: opts.lines.map((l, i) => ({
        label: l.label,
        data: data[i],
        borderColor: l.color,
        backgroundColor: l.color + "22",
        fill: i === 0 && !l.dashed ? "origin" : false,
        borderDash: l.dashed ? [4, 4] : undefined,
        borderWidth: 1.5,
        pointRadius: isolatedRadius,
        pointHitRadius: 4,
        spanGaps: false,
        // The newest point sits on the right edge; let its dot show whole.
        clip: 4,
        tension: 0,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      layout: { padding: { right: 4 } },
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: {
          type: "linear",
          ticks: {
            color: opts.text,
            maxRotation: 0,
            autoSkip: false,
            callback: (v, _i, ticks) =>
              timeLabel(Number(v), Number(ticks.at(-1)?.value ?? 0) - Number(ticks[0]?.value ?? 0)),
          },
          afterBuildTicks: (scale: Scale) => {
            // One label per ~90 px, so a phone-width chart gets three and a wide one six.
            const most = Math.max(2, Math.min(6, Math.floor(scale.width / 90)));
            scale.ticks = timeTicks(scale.min, scale.max, most).map((value) => ({ value }));
          },
          grid: { display: false },
        },
        y: {
          min: 0,
          suggestedMax: opts.suggestedMax,
          ticks: {
            color: opts.text,
            maxTicksLimit: 5,
            callback: (v) => (opts.tick ?? opts.format)(Number(v)),
          },
          grid: { color: opts.grid },
        },
      },
      plugins: {
        tooltip: {
          callbacks: {
            title: (items) => new Date(items[0]?.parsed.x ?? 0).toLocaleString(),
            label: (item) => `${item.dataset.label}: ${opts.format(Number(item.parsed.y))}`,
          },
        },
      },
    },
  });
  const setWindow = (from: number, to: number) => {
    chart.options.scales!.x!.min = from;
    chart.options.scales!.x!.max = to;
  };
  return {
    set(lines, from, to) {
      lines.forEach((points, i) => {
        if (!data[i]) return;
        data[i].length = 0;
        data[i].push(...points);
      });
      setWindow(from, to);
      chart.update("none");
    },
    append(t, values, from) {
      values.forEach((y, i) => {
        const line = data[i];
        if (!line || (line.length && line[line.length - 1].x >= t)) return;
        line.push({ x: t, y });
        let drop = 0;
        while (drop < line.length && line[drop].x < from) drop++;
        if (drop) line.splice(0, drop);
      });
      setWindow(from, t);
      chart.update("none");
    },
    destroy: () => chart.destroy(),
  };
}
