/**
 * Reads behind the fleet and host pages and the storage estimate: newest values and the last few
 * raw points of many hosts at once, a host's containers' newest values, and row counts per tier.
 * Each is a handful of grouped queries however many hosts or series there are, so a page of 100
 * host cards costs the same few round trips as one.
 */
import { sql } from "kysely";
import type { Db, Dialect } from "../db/mod.ts";
import { CHUNK_ROW_BYTES, createLegacyRaw, rawTierSize, readRaw } from "./chunks.ts";

/** Host ids per IN list: far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

/** A value with its sample time. */
export interface Stamped {
  t: number;
  v: number;
}

/** Which host series to read: exact keys, and families by prefix (`net.rx_bps` matches every interface). */
export interface KeyFilter {
  keys?: string[];
  prefixes?: string[];
}

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

function matches(key: string, f: KeyFilter): boolean {
  return (f.keys?.includes(key) ?? false) || (f.prefixes?.some((p) => key.startsWith(p)) ?? false);
}

/** Bytes one stored row takes on disk, data plus its share of the primary key, by dialect. */
export interface RowSize {
  /** Per raw sample: raw samples are stored compressed, many to a row (chunks.ts). */
  raw: number;
  /** A rollup row without its histogram text, which is counted from its actual length. */
  rollup: number;
}

/**
 * Bytes per raw sample of a realistic host, compressed chunks and their rows together, as
 * `deno task bench` measured them (raw_bytes_per_sample, bench/results.json): what the settings
 * page quotes. The per-host estimate itself adds up the stored chunks' actual sizes.
 */
export const RAW_SAMPLE_BYTES: Record<Dialect, number> = { sqlite: 1.9, postgres: 2.1 };

/** Bytes a row of the old one-row-per-sample raw table took, for rows not converted yet. */
const LEGACY_RAW_ROW_BYTES: Record<Dialect, number> = { sqlite: 25, postgres: 85 };

/**
 * Approximate on-disk bytes per row, table and primary-key index together, by dialect:
 * - SQLite: the time-series tables are WITHOUT ROWID B-trees keyed by (series_id, t), so a raw
 *   row is one cell — header, series_id, a 6-byte ms timestamp, an 8-byte double, cell pointer —
 *   ≈ 22 bytes plus page slack. Rollup cells add min/max/sum/count and the histogram text, and
 *   their larger cells leave more of each page unused.
 * - PostgreSQL: each heap tuple carries a 23-byte header (padded to 24) and a 4-byte line
 *   pointer before its 24 bytes of data, and the primary-key B-tree holds another ~32 bytes per
 *   row; rollup tuples add three doubles, an int and the text's varlena header.
 * Measured here (40 series × 3,600 one-second samples of random values, rolled up): SQLite
 * (`dbstat`) 24.8 bytes per raw row and 443 per minute row whose histogram text averaged 317
 * characters; PostgreSQL (`pg_total_relation_size`) 85 and 470. The rollup figures below are those
 * minus the histogram, which the estimate adds from each row's actual length. Dead tuples before
 * autovacuum, free pages and fill factor move real sizes by tens of percent: this is for capacity
 * planning, not billing. The raw-row figures are LEGACY_RAW_ROW_BYTES now (rows stored before
 * chunks, until converted); raw samples are quoted per sample (RAW_SAMPLE_BYTES).
 */
export const ROW_BYTES: Record<Dialect, RowSize> = {
  sqlite: { raw: RAW_SAMPLE_BYTES.sqlite, rollup: 125 },
  postgres: { raw: RAW_SAMPLE_BYTES.postgres, rollup: 150 },
};

/** Stored rows of one host and their estimated size. */
export interface HostStorage {
  host_id: string;
  series: number;
  raw_rows: number;
  minute_rows: number;
  hour_rows: number;
  estimated_bytes: number;
}

/** Batched reads for the fleet overview, the host page and the storage estimate. */
export function createMetricOverview(db: Db, dialect: Dialect) {
  const legacy = createLegacyRaw(Date.now);
  return {
    /** Newest value per host series of the given hosts, newer than `since`, filtered by key. */
    async hostLatest(
      hostIds: string[],
      since: number,
      filter?: KeyFilter,
    ): Promise<Map<string, Record<string, Stamped>>> {
      const out = new Map<string, Record<string, Stamped>>();
      for (const ids of chunks(hostIds)) {
        let q = db.selectFrom("metric_latest as l")
          .innerJoin("metric_series as s", "s.id", "l.series_id")
          .select(["s.host_id", "s.key", "l.t", "l.v"])
          .where("s.host_id", "in", ids).where("s.container_id", "=", "").where("l.t", ">=", since);
        if (filter) {
          // LIKE narrows in SQL ("_" is a wildcard there); `matches` below is the exact test.
          q = q.where((eb) =>
            eb.or([
              ...(filter.keys?.length ? [eb("s.key", "in", filter.keys)] : []),
              ...(filter.prefixes ?? []).map((p) => eb("s.key", "like", `${p}%`)),
            ])
          );
        }
        for (const r of await q.limit(100_000).execute()) {
          if (filter && !matches(r.key, filter)) continue;
          let h = out.get(r.host_id);
          if (!h) out.set(r.host_id, h = {});
          h[r.key] = { t: Number(r.t), v: r.v };
        }
      }
      return out;
    },

    /**
     * The last `max` raw points (`[t, v]`, oldest first) of the given host series per host,
     * looking back no further than `since` — the primary key (series_id, t) makes this a range
     * read per series, not a scan; callers keep `since` to a few minutes.
     */
    async recent(
      hostIds: string[],
      keys: string[],
      since: number,
      max: number,
    ): Promise<Map<string, Record<string, [number, number][]>>> {
      const out = new Map<string, Record<string, [number, number][]>>();
      if (!keys.length) return out;
      for (const ids of chunks(hostIds)) {
        const series = await db.selectFrom("metric_series").select(["id", "host_id", "key"])
          .where("host_id", "in", ids).where("container_id", "=", "").where("key", "in", keys)
          .execute();
        const samples = await readRaw(db, legacy, series.map((s) => Number(s.id)), since, 2 ** 50);
        for (const s of series) {
          const list = samples.get(Number(s.id));
          if (!list?.length) continue;
          let h = out.get(s.host_id);
          if (!h) out.set(s.host_id, h = {});
          h[s.key] = list.map((x) => [x.t, x.v]);
        }
      }
      for (const h of out.values()) {
        for (const k in h) if (h[k].length > max) h[k] = h[k].slice(-max);
      }
      return out;
    },

    /** Newest `ctr.*` values of a host's containers, newer than `since`, by container id. */
    async containerLatest(
      hostId: string,
      since: number,
    ): Promise<Map<string, Record<string, Stamped>>> {
      const rows = await db.selectFrom("metric_latest as l")
        .innerJoin("metric_series as s", "s.id", "l.series_id")
        .select(["s.container_id", "s.key", "l.t", "l.v"])
        .where("s.host_id", "=", hostId).where("s.container_id", "!=", "")
        .where("l.t", ">=", since).limit(50_000).execute();
      const out = new Map<string, Record<string, Stamped>>();
      for (const r of rows) {
        let c = out.get(r.container_id);
        if (!c) out.set(r.container_id, c = {});
        c[r.key] = { t: Number(r.t), v: r.v };
      }
      return out;
    },

    /**
     * Rows per tier and estimated bytes per host: one grouped query per table, each walking only
     * the given hosts' series through the (series_id, t) keys.
     */
    async storage(hostIds: string[]): Promise<HostStorage[]> {
      const size = ROW_BYTES[dialect];
      const acc = new Map<string, HostStorage>(hostIds.map((id) => [id, {
        host_id: id,
        series: 0,
        raw_rows: 0,
        minute_rows: 0,
        hour_rows: 0,
        estimated_bytes: 0,
      }]));
      for (const ids of chunks(hostIds)) {
        const series = await db.selectFrom("metric_series").where("host_id", "in", ids)
          .select((eb) => ["host_id", eb.fn.countAll().as("n")]).groupBy("host_id").execute();
        for (const r of series) acc.get(r.host_id)!.series = Number(r.n);

        for (const [id, r] of await rawTierSize(db, ids)) {
          const h = acc.get(id)!;
          h.raw_rows = r.samples;
          h.estimated_bytes += r.bytes + r.chunks * CHUNK_ROW_BYTES[dialect] +
            r.legacyRows * LEGACY_RAW_ROW_BYTES[dialect];
        }

        for (const tier of ["metric_1m", "metric_1h"] as const) {
          const rows = await db.selectFrom("metric_series as s")
            .innerJoin(`${tier} as r`, "r.series_id", "s.id").where("s.host_id", "in", ids)
            .select((eb) => [
              "s.host_id",
              eb.fn.countAll().as("n"),
              sql<number | string | null>`sum(length(r.hist))`.as("hist_bytes"),
            ]).groupBy("s.host_id").execute();
          for (const r of rows) {
            const h = acc.get(r.host_id)!;
            const n = Number(r.n);
            if (tier === "metric_1m") h.minute_rows = n;
            else h.hour_rows = n;
            h.estimated_bytes += n * size.rollup + Number(r.hist_bytes ?? 0);
          }
        }
      }
      return [...acc.values()];
    },
  };
}

/** The overview reads, as created by the metrics service. */
export type MetricOverview = ReturnType<typeof createMetricOverview>;
