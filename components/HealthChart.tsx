import { formatTime } from "./Time.tsx";
import { formatMs } from "./HealthBadge.tsx";

/** One bucket of the response-time series (the API's `response-times` points). */
export interface SeriesPoint {
  t: number;
  avg_ms: number | null;
  max_ms: number | null;
  count: number;
  failures: number;
}

/** The series as the API answers it. */
export interface Series {
  range: string;
  bucket_ms: number;
  from: number;
  to: number;
  points: SeriesPoint[];
}

const W = 600;
const H = 160;

/** The next 1, 2 or 5 × 10^k at or above `v`, so the axis reads round. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** SVG path through the points' `pick` values; a missing bucket breaks the line. */
function line(
  s: Series,
  pick: (p: SeriesPoint) => number | null,
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  let d = "";
  let prev: number | null = null;
  for (const p of s.points) {
    const v = pick(p);
    if (v === null) {
      prev = null;
      continue;
    }
    const joined = prev !== null && p.t - prev <= s.bucket_ms;
    d += `${joined ? "L" : "M"}${x(p.t).toFixed(1)} ${y(v).toFixed(1)}`;
    prev = p.t;
  }
  return d;
}

/**
 * Response times of a check over a range as an SVG chart: average per bucket (line and area), the
 * slowest result per bucket (dashed) and failed results as red bars along the bottom. Drawn the
 * same on the server and in the browser, without a chart library.
 */
export function HealthChart({ series }: { series: Series }) {
  const pts = series.points.filter((p) => p.avg_ms !== null || p.failures > 0);
  const top = niceMax(Math.max(0, ...pts.map((p) => p.max_ms ?? p.avg_ms ?? 0)));
  const span = Math.max(1, series.to - series.from);
  // Bucket centres, kept inside the box (the newest bucket is still filling).
  const x = (t: number) =>
    Math.min(W - 3, Math.max(3, ((t + series.bucket_ms / 2 - series.from) / span) * W));
  const y = (v: number) => H - 2 - (Math.min(v, top) / top) * (H - 14);
  const avg = line(series, (p) => p.avg_ms, x, y);
  const max = line(series, (p) => p.max_ms, x, y);
  // Few points: each is a dot too, so a new check's first minutes are visible at once.
  const dots = pts.length <= 120
    ? pts.filter((p) => p.avg_ms !== null).map((p) =>
      `M${x(p.t).toFixed(1)} ${y(p.avg_ms!).toFixed(1)}h0.01`
    ).join("")
    : "";
  const barW = Math.max(2, (series.bucket_ms / span) * W - 1);
  const failed = pts.reduce((n, p) => n + p.failures, 0);
  return (
    <figure
      class="health-chart"
      data-points={pts.length}
      data-range={series.range}
      data-last-t={pts.at(-1)?.t}
    >
      <div class="health-chart-box">
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Response times, last ${series.range}: ${pts.length} points, ${failed} failed results`}
        >
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} class="hc-grid" x1="0" x2={W} y1={y(top * f)} y2={y(top * f)} />
          ))}
          <line class="hc-axis" x1="0" x2={W} y1={H - 1} y2={H - 1} />
          {pts.filter((p) => p.failures > 0).map((p) => (
            <rect
              key={p.t}
              class="hc-fail"
              x={x(p.t) - barW / 2}
              width={barW}
              y={H - 2 - 12 * Math.max(0.3, p.failures / Math.max(1, p.count))}
              height={12 * Math.max(0.3, p.failures / Math.max(1, p.count))}
            >
              <title>{`${p.failures} of ${p.count} failed at ${formatTime(p.t)}`}</title>
            </rect>
          ))}
          <path class="hc-max" d={max} />
          <path class="hc-line" d={avg} />
          {dots && <path class="hc-dot" d={dots} />}
        </svg>
        <span class="hc-label hc-top">{formatMs(top)}</span>
        <span class="hc-label hc-mid">{formatMs(top / 2)}</span>
        {pts.length === 0 && <p class="chart-note muted">No results in this range yet.</p>}
      </div>
      <div class="hc-x">
        <span>{formatTime(series.from)}</span>
        <span>{formatTime(series.to)}</span>
      </div>
      <figcaption class="hc-legend small">
        <span class="hc-key hc-key-avg">average</span>
        <span class="hc-key hc-key-max">slowest</span>
        <span class="hc-key hc-key-fail">failed</span>
      </figcaption>
    </figure>
  );
}
