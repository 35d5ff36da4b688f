import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { decode, type Histogram, merge, quantile } from "./histogram.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Ranges the stats endpoint accepts, in ms. */
export const STATS_RANGES = {
  "1h": HOUR,
  "12h": 12 * HOUR,
  "24h": 24 * HOUR,
  "7d": 7 * 24 * HOUR,
  "30d": 30 * 24 * HOUR,
} as const;
export type StatsRange = keyof typeof STATS_RANGES;

/** Most points returned per series; longer ranges are averaged into this many buckets. */
export const MAX_POINTS = 1000;

export type Tier = "raw" | "1m" | "1h";

/** The coarsest tier that still gives detail for a range: raw up to 3 h, minutes up to 3 days, hours beyond. */
export function tierFor(rangeMs: number): Tier {
  if (rangeMs <= 3 * HOUR) return "raw";
  if (rangeMs <= 3 * 24 * HOUR) return "1m";
  return "1h";
}

export interface SeriesPoints {
  key: string;
  /** [t, avg, min, max] */
  points: [number, number, number, number][];
}

export interface SeriesStats {
  key: string;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

/** Reads metric series and statistics for a host or one of its containers. */
export function createMetricQuery(db: Db, clock: Clock) {
  async function series(hostId: string, container: string, keys?: string[]) {
    let q = db.selectFrom("metric_series").select(["id", "key"]).where("host_id", "=", hostId)
      .where("container_id", "=", container);
    if (keys?.length) q = q.where("key", "in", keys);
    return (await q.orderBy("key").limit(2000).execute()).map((r) => ({
      id: Number(r.id),
      key: r.key,
    }));
  }

  return {
    /** Series keys stored for a host ('' container) or a container. */
    async keys(hostId: string, container = ""): Promise<string[]> {
      return (await series(hostId, container)).map((s) => s.key);
    },

    /** Points of the given series in [from, to), from the tier the range calls for, at most MAX_POINTS each. */
    async points(
      hostId: string,
      container: string,
      keys: string[],
      from: number,
      to: number,
    ): Promise<{ tier: Tier; series: SeriesPoints[] }> {
      const tier = tierFor(to - from);
      const ss = await series(hostId, container, keys);
      // Buckets are whole multiples of the tier's resolution, so every bucket averages the same number of rows.
      const resolution = tier === "raw" ? 1000 : tier === "1m" ? MINUTE : HOUR;
      const step = resolution * Math.max(1, Math.ceil((to - from) / MAX_POINTS / resolution));
      const out: SeriesPoints[] = [];
      for (const s of ss) {
        const buckets = new Map<number, { sum: number; count: number; min: number; max: number }>();
        const put = (t: number, sum: number, count: number, min: number, max: number) => {
          const b = t - (t % step);
          const x = buckets.get(b);
          if (!x) buckets.set(b, { sum, count, min, max });
          else {
            x.sum += sum;
            x.count += count;
            x.min = Math.min(x.min, min);
            x.max = Math.max(x.max, max);
          }
        };
        if (tier === "raw") {
          const rows = await db.selectFrom("metric_raw").select(["t", "v"]).where(
            "series_id",
            "=",
            s.id,
          )
            .where("t", ">=", from).where("t", "<", to).orderBy("t").execute();
          for (const r of rows) put(Number(r.t), r.v, 1, r.v, r.v);
        } else {
          const rows = await db.selectFrom(tier === "1m" ? "metric_1m" : "metric_1h").select([
            "t",
            "sum",
            "count",
            "min",
            "max",
          ])
            .where("series_id", "=", s.id).where("t", ">=", from).where("t", "<", to).orderBy("t")
            .execute();
          for (const r of rows) put(Number(r.t), r.sum, r.count, r.min, r.max);
        }
        out.push({
          key: s.key,
          points: [...buckets].map(([t, x]) =>
            [t, x.sum / x.count, x.min, x.max] as [number, number, number, number]
          ),
        });
      }
      return { tier, series: out };
    },

    /**
     * min/max/avg and p50/p95/p99 per series over the last `range`, merged from rollups (minutes up
     * to a day, hours beyond). Quantiles carry the histogram's relative error bound (1 %).
     */
    async stats(
      hostId: string,
      container: string,
      range: StatsRange,
      keys?: string[],
    ): Promise<SeriesStats[]> {
      const to = clock.now();
      const from = to - STATS_RANGES[range];
      const table = STATS_RANGES[range] <= 24 * HOUR ? "metric_1m" : "metric_1h";
      const ss = await series(hostId, container, keys);
      if (!ss.length) return [];
      const byId = new Map(ss.map((s) => [s.id, s.key]));
      const acc = new Map<
        number,
        { min: number; max: number; sum: number; count: number; hist: Histogram }
      >();
      const ids = ss.map((s) => s.id);
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await db.selectFrom(table).selectAll().where(
          "series_id",
          "in",
          ids.slice(i, i + 500),
        )
          .where("t", ">=", from - (from % (table === "metric_1m" ? MINUTE : HOUR))).where(
            "t",
            "<",
            to,
          ).execute();
        for (const r of rows) {
          const sid = Number(r.series_id);
          let a = acc.get(sid);
          if (!a) {
            acc.set(sid, a = { min: Infinity, max: -Infinity, sum: 0, count: 0, hist: new Map() });
          }
          a.min = Math.min(a.min, r.min);
          a.max = Math.max(a.max, r.max);
          a.sum += r.sum;
          a.count += r.count;
          merge(a.hist, decode(r.hist));
        }
      }
      return [...acc].map(([sid, a]) => ({
        key: byId.get(sid)!,
        min: a.min,
        max: a.max,
        avg: a.sum / a.count,
        p50: quantile(a.hist, 0.5)!,
        p95: quantile(a.hist, 0.95)!,
        p99: quantile(a.hist, 0.99)!,
        count: a.count,
      })).sort((x, y) => x.key.localeCompare(y.key));
    },

    /** The newest value of every series of the given hosts, newer than `since` (for /metrics and fleet cards). */
    async latest(
      hostIds: string[],
      since: number,
    ): Promise<{ host_id: string; container_id: string; key: string; t: number; v: number }[]> {
      if (!hostIds.length) return [];
      const rows = await db.selectFrom("metric_latest as l")
        .innerJoin("metric_series as s", "s.id", "l.series_id")
        .select(["s.host_id", "s.container_id", "s.key", "l.t", "l.v"])
        .where("s.host_id", "in", hostIds).where("l.t", ">=", since)
        .orderBy("s.host_id").orderBy("s.container_id").orderBy("s.key")
        .limit(200_000).execute();
      return rows.map((r) => ({ ...r, t: Number(r.t) }));
    },
  };
}

export type MetricQuery = ReturnType<typeof createMetricQuery>;
