import type { Db } from "../db/mod.ts";
import type { MetricRollupTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { type Histogram, quantile } from "./histogram.ts";
import { addRow, addSample, emptySummary, type Summary } from "./summary.ts";
import { RUNNING } from "./rollup.ts";
import { createLegacyRaw, readRaw } from "./chunks.ts";

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

/** What p50/p95/p99 of a series are read from: its samples, or its one-minute or one-hour averages. */
export type PercentileBasis = "samples" | "1m_averages" | "1h_averages";

export interface SeriesStats {
  key: string;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  count: number;
  percentiles_of: PercentileBasis;
}

/**
 * True for throughput series (`net.rx_bps{…}`, `ctr.blk_write_bps`): bursty, so most one-second
 * samples of a quiet interface are 0 and a percentile of samples says "idle" beside a non-zero
 * average. Their percentiles are read from per-minute (or per-hour) averages instead, as the 95th
 * percentile of a link is usually meant.
 */
export function isThroughput(key: string): boolean {
  const open = key.indexOf("{");
  return (open < 0 ? key : key.slice(0, open)).endsWith("_bps");
}

/**
 * Newest not-yet-rolled minutes a read computes from raw samples. Normally only the last two or
 * three are (the rollup settles each minute for 15 s after it ends); a rollup job far behind shows
 * the rows it wrote earlier for older ones, keeping a read bounded.
 */
const MAX_TAIL_MINUTES = 180;
/** Likewise for hours whose rollup is pending (normally just the current one). */
const MAX_TAIL_HOURS = 48;
/** Series ids per IN list. */
const CHUNK = 500;

/** One bucket of one series, as rollup rows hold it; `hist` encoded (from a table) or not (computed). */
type BucketRow = Omit<MetricRollupTable, "hist"> & { hist: string | Histogram };

/** Consecutive buckets of size `step` joined into [from, to) ranges, so a tail is one read. */
function runs(buckets: number[], step: number): [number, number][] {
  const out: [number, number][] = [];
  for (const b of [...buckets].sort((x, y) => x - y)) {
    const last = out.at(-1);
    if (last && last[1] === b) last[1] = b + step;
    else out.push([b, b + step]);
  }
  return out;
}

function exactQuantile(sorted: number[], q: number): number {
  // The rank convention of histogram.quantile(): the value at index floor(q * (n - 1)).
  return sorted[Math.floor(q * (sorted.length - 1))];
}

/** Reads metric series and statistics for a host or one of its containers. */
export function createMetricQuery(db: Db, clock: Clock) {
  const legacy = createLegacyRaw(() => clock.now());
  async function series(hostId: string, container: string, keys?: string[]) {
    let q = db.selectFrom("metric_series").select(["id", "key"]).where("host_id", "=", hostId)
      .where("container_id", "=", container);
    if (keys?.length) q = q.where("key", "in", keys);
    return (await q.orderBy("key").limit(2000).execute()).map((r) => ({
      id: Number(r.id),
      key: r.key,
    }));
  }

  /** Buckets of a host that ingest marked and the rollup has not yet (re)computed (or is computing), newest first. */
  async function pending(hostId: string, tier: "1m" | "1h", from: number, to: number, max: number) {
    const rows = await db.selectFrom("metric_dirty").select("bucket").distinct()
      .where("tier", "in", [tier, RUNNING[tier]]).where("host_id", "=", hostId)
      .where("bucket", ">=", from).where("bucket", "<", to)
      .orderBy("bucket", "desc").limit(max).execute();
    return rows.map((r) => Number(r.bucket));
  }

  /** Raw samples of [from, to) folded into one row per series and minute. */
  async function rawMinutes(ids: number[], from: number, to: number, each: (r: BucketRow) => void) {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const samples = await readRaw(db, legacy, ids.slice(i, i + CHUNK), from, to);
      const accs = new Map<string, BucketRow & Summary>();
      for (const [sid, list] of samples) {
        for (const r of list) {
          const t = r.t - (r.t % MINUTE);
          const k = `${sid}:${t}`;
          let a = accs.get(k);
          if (!a) accs.set(k, a = { series_id: sid, t, ...emptySummary() });
          addSample(a, r.v);
        }
      }
      for (const a of accs.values()) each(a);
    }
  }

  /**
   * Every bucket of the given series in [from, to) at a tier's resolution (`from` aligned to it):
   * rolled rows where the rollup is current, and where it is pending (a host that just joined, the
   * last minutes, late samples) the same figures computed from the finer data — minutes from raw
   * samples, hours from their minutes. So a range read never waits for the rollup job.
   */
  async function buckets(
    hostId: string,
    ids: number[],
    tier: "1m" | "1h",
    from: number,
    to: number,
    each: (r: BucketRow) => void,
  ): Promise<void> {
    const minutes = await pending(hostId, "1m", from, to, MAX_TAIL_MINUTES);
    const stale = new Set(minutes);
    if (tier === "1h") {
      stale.clear();
      for (const h of await pending(hostId, "1h", from, to, MAX_TAIL_HOURS)) stale.add(h);
      for (const m of minutes) stale.add(m - (m % HOUR));
    }
    const table = tier === "1m" ? "metric_1m" : "metric_1h";
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await db.selectFrom(table).selectAll()
        .where("series_id", "in", ids.slice(i, i + CHUNK)).where("t", ">=", from)
        .where("t", "<", to).execute();
      for (const r of rows) {
        const t = Number(r.t);
        if (!stale.has(t)) each({ ...r, series_id: Number(r.series_id), t });
      }
    }
    if (tier === "1m") {
      for (const [a, b] of runs(minutes, MINUTE)) await rawMinutes(ids, a, b, each);
    } else {
      for (const [a, b] of runs([...stale], HOUR)) {
        await buckets(hostId, ids, "1m", a, Math.min(b, to), each);
      }
    }
  }

  return {
    /**
     * Sum and count of samples per bucket of the given series of many containers of one host, at
     * a rollup tier's resolution (pending buckets computed from finer data, as `points` does):
     * the input of sums across containers (aggregate.ts), which need every container's figures
     * on the same time grid. The caller bounds the range per tier (app metrics: minutes up to 3
     * days, hours up to the API's 400 days, so at most 9,600 buckets per series).
     */
    async containerBuckets(
      hostId: string,
      containers: string[],
      keys: string[],
      tier: "1m" | "1h",
      from: number,
      to: number,
    ): Promise<{ container: string; key: string; t: number; sum: number; count: number }[]> {
      if (!containers.length || !keys.length) return [];
      const resolution = tier === "1m" ? MINUTE : HOUR;
      const start = from - (from % resolution);
      const ss = new Map<number, { container: string; key: string }>();
      for (let i = 0; i < containers.length; i += CHUNK) {
        const rows = await db.selectFrom("metric_series").select(["id", "container_id", "key"])
          .where("host_id", "=", hostId).where("container_id", "in", containers.slice(i, i + CHUNK))
          .where("key", "in", keys).execute();
        for (const r of rows) ss.set(Number(r.id), { container: r.container_id, key: r.key });
      }
      const out: { container: string; key: string; t: number; sum: number; count: number }[] = [];
      await buckets(hostId, [...ss.keys()], tier, start, to, (r) => {
        const s = ss.get(r.series_id)!;
        out.push({ ...s, t: r.t - (r.t % resolution), sum: r.sum, count: r.count });
      });
      return out;
    },

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
      type Point = { sum: number; count: number; min: number; max: number };
      const bySeries = new Map(ss.map((s) => [s.id, new Map<number, Point>()]));
      const put = (
        sid: number,
        t: number,
        sum: number,
        count: number,
        min: number,
        max: number,
      ) => {
        const buckets = bySeries.get(sid)!;
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
        const samples = await readRaw(db, legacy, ss.map((s) => s.id), from, to);
        for (const s of ss) {
          for (const r of samples.get(s.id) ?? []) put(s.id, r.t, r.v, 1, r.v, r.v);
        }
      } else {
        const ids = ss.map((s) => s.id);
        await buckets(hostId, ids, tier, from - (from % resolution), to, (r) => {
          // A bucket that starts before `from` (the range starts mid-bucket) is left out, as before.
          if (r.t >= from) put(r.series_id, r.t, r.sum, r.count, r.min, r.max);
        });
      }
      return {
        tier,
        series: ss.map((s) => ({
          key: s.key,
          points: [...bySeries.get(s.id)!].sort((a, b) => a[0] - b[0]).map(([t, x]) =>
            [t, x.sum / x.count, x.min, x.max] as [number, number, number, number]
          ),
        })),
      };
    },

    /**
     * min/max/avg and p50/p95/p99 per series over the last `range`, from rollups (minutes up to a
     * day, hours beyond) and, for buckets not rolled up yet, the samples themselves. Quantiles of
     * samples carry the histogram's relative error bound (1 %) and are clamped to [min, max];
     * throughput series take theirs exactly from the bucket averages (see isThroughput).
     */
    async stats(
      hostId: string,
      container: string,
      range: StatsRange,
      keys?: string[],
    ): Promise<SeriesStats[]> {
      const to = clock.now();
      const from = to - STATS_RANGES[range];
      const tier = STATS_RANGES[range] <= 24 * HOUR ? "1m" : "1h";
      const resolution = tier === "1m" ? MINUTE : HOUR;
      const ss = await series(hostId, container, keys);
      if (!ss.length) return [];
      const byId = new Map(ss.map((s) => [s.id, s.key]));
      const acc = new Map<number, Summary>();
      // Throughput series: sum and count per bucket of the tier, for percentiles of the averages.
      const perBucket = new Map<number, Map<number, { sum: number; count: number }>>();
      for (const s of ss) if (isThroughput(s.key)) perBucket.set(s.id, new Map());
      await buckets(hostId, [...byId.keys()], tier, from - (from % resolution), to, (r) => {
        let a = acc.get(r.series_id);
        if (!a) acc.set(r.series_id, a = emptySummary());
        addRow(a, r);
        const avgs = perBucket.get(r.series_id);
        if (avgs) {
          // Hours still pending arrive as their minutes: fold them into their hour.
          const b = r.t - (r.t % resolution);
          const x = avgs.get(b);
          if (x) {
            x.sum += r.sum;
            x.count += r.count;
          } else avgs.set(b, { sum: r.sum, count: r.count });
        }
      });
      return [...acc].map(([sid, a]): SeriesStats => {
        const clamp = (v: number) => Math.min(a.max, Math.max(a.min, v));
        const avgs = perBucket.get(sid);
        const base = { key: byId.get(sid)!, min: a.min, max: a.max, avg: a.sum / a.count };
        if (avgs) {
          const sorted = [...avgs.values()].map((x) => x.sum / x.count).sort((x, y) => x - y);
          return {
            ...base,
            p50: clamp(exactQuantile(sorted, 0.5)),
            p95: clamp(exactQuantile(sorted, 0.95)),
            p99: clamp(exactQuantile(sorted, 0.99)),
            count: a.count,
            percentiles_of: tier === "1m" ? "1m_averages" : "1h_averages",
          };
        }
        return {
          ...base,
          p50: clamp(quantile(a.hist, 0.5)!),
          p95: clamp(quantile(a.hist, 0.95)!),
          p99: clamp(quantile(a.hist, 0.99)!),
          count: a.count,
          percentiles_of: "samples",
        };
      }).sort((x, y) => x.key.localeCompare(y.key));
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
