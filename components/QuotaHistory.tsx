import type { HistoryPoint } from "../lib/quotas/watch.ts";
import { formatAmount, type Resource, RESOURCE_INFO, RESOURCES } from "../lib/quotas/resources.ts";

const DAY = 86_400_000;

/** One day's bar: the most used that day and the limit last seen with it. */
interface DayBar {
  day: number;
  max: number;
  limit: number | null;
}

/** Hourly points folded into UTC days (the most used in the day; the limit of that hour). */
export function byDay(points: HistoryPoint[]): DayBar[] {
  const days = new Map<number, DayBar>();
  for (const p of points) {
    const day = Math.floor(p.hour / DAY) * DAY;
    const d = days.get(day);
    if (!d || p.max_used >= d.max) days.set(day, { day, max: p.max_used, limit: p.limit });
  }
  return [...days.values()].sort((a, b) => a.day - b.day);
}

const W = 300, H = 48, TOP = 120; // a bar at 120 % of the limit or more fills the height

/**
 * Use against the limit over the last 30 days, a bar per day (the day's maximum as a percentage
 * of its limit; the dashed line is 100 %), server-rendered SVG: no JavaScript, readable as text
 * through its title and the figures beside it.
 */
function Sparkline({ resource, bars, from }: { resource: Resource; bars: DayBar[]; from: number }) {
  const slot = W / 30;
  const pctOf = (b: DayBar) =>
    b.limit === null ? null : b.limit === 0 ? (b.max > 0 ? TOP : 0) : (b.max * 100) / b.limit;
  const y100 = H - (100 / TOP) * H;
  const peak = bars.reduce((m, b) => (b.max > m.max ? b : m), bars[0]);
  const label = `${RESOURCE_INFO[resource].label}, last 30 days: at most ${
    formatAmount(resource, peak.max)
  }${peak.limit === null ? "" : ` of ${formatAmount(resource, peak.limit)}`}`;
  return (
    <svg
      class="quota-spark"
      viewBox={`0 0 ${W} ${H}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      {bars.map((b) => {
        const i = Math.floor((b.day - from) / DAY);
        if (i < 0 || i >= 30) return null;
        const p = pctOf(b);
        const h = p === null ? 2 : Math.max(1, (Math.min(p, TOP) / TOP) * H);
        const tone = p === null
          ? "none"
          : p > 100
          ? "over"
          : p >= 90
          ? "error"
          : p >= 80
          ? "warn"
          : "ok";
        return (
          <rect
            key={b.day}
            class={`spark-${tone}`}
            x={i * slot + 1}
            y={H - h}
            width={slot - 2}
            height={h}
          >
            <title>
              {`${new Date(b.day).toISOString().slice(0, 10)}: ${formatAmount(resource, b.max)}${
                b.limit === null ? "" : ` of ${formatAmount(resource, b.limit)}`
              }`}
            </title>
          </rect>
        );
      })}
      <line class="spark-limit" x1={0} x2={W} y1={y100} y2={y100} />
    </svg>
  );
}

/** The quota page's history: one sparkline per resource with any, or the empty state. */
export function QuotaHistory(
  { history, now }: { history: Partial<Record<Resource, HistoryPoint[]>>; now: number },
) {
  const from = Math.floor(now / DAY) * DAY - 29 * DAY;
  const shown = RESOURCES.filter((r) => history[r]?.some((p) => p.hour >= from));
  return (
    <section class="quota-history" aria-labelledby="quota-history-h">
      <h2 id="quota-history-h">History (30 days)</h2>
      {shown.length === 0
        ? (
          <p class="muted" data-empty="quota-history">
            No history yet. The quota job records each limited resource's use every hour (the most
            used in the hour, and the limit) once a limit is set; 90 days are kept.
          </p>
        )
        : (
          <ul class="quota-bars">
            {shown.map((r) => {
              const bars = byDay(history[r]!.filter((p) => p.hour >= from));
              const last = bars.at(-1)!;
              return (
                <li key={r} class="quota card" data-history={r}>
                  <div class="quota-head">
                    <span class="quota-label">{RESOURCE_INFO[r].label}</span>
                    <span class="quota-figure">
                      today max {formatAmount(r, last.max)}
                      {last.limit !== null && ` of ${formatAmount(r, last.limit)}`}
                    </span>
                  </div>
                  <Sparkline resource={r} bars={bars} from={from} />
                  <p class="hint">Each bar is a day's highest use; the dashed line is the limit.</p>
                </li>
              );
            })}
          </ul>
        )}
    </section>
  );
}
