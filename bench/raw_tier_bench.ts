/**
 * Bytes per stored sample of Capstan's raw metrics tier against Prometheus's TSDB, on the same
 * samples: one hour of a realistic host (bench/support/host_hour.ts) ingested through the real
 * metric store into a fresh, migrated database, and written by `promtool tsdb create-blocks-from
 * openmetrics` into TSDB blocks.
 *
 * The Capstan side measures every table named in RAW_TIER_TABLES (lib/metrics/raw_tier.ts) that
 * exists, with its indexes: row-per-sample `metric_raw` today, compressed chunks once they land,
 * with no change here. Rollup tiers are left out of the figure (Prometheus has none either).
 * - SQLite: after `PRAGMA wal_checkpoint(TRUNCATE)`, the pages of each table and index from the
 *   `dbstat` virtual table (node:sqlite is built with it), so unused space inside pages counts but
 *   free pages of the file do not.
 * - PostgreSQL: `pg_total_relation_size` (heap, indexes, TOAST, free-space and visibility maps)
 *   after a VACUUM FULL: the live rows, without the space of small chunks compaction merged away
 *   (reused by later inserts in steady operation).
 */
import { join } from "node:path";
import { sql } from "kysely";
import { type DbHandle, openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createMetricStore } from "../lib/metrics/store.ts";
import { createLegacyRaw, readRaw } from "../lib/metrics/chunks.ts";
import { createChunkCompaction } from "../lib/metrics/chunk_compaction.ts";
import { createRollups } from "../lib/metrics/rollup.ts";
import { RAW_TIER_TABLES } from "../lib/metrics/raw_tier.ts";
import type { Clock } from "../lib/util/clock.ts";
import { openTestDb, TEST_POSTGRES_URL } from "../tests/support/db.ts";
import { type HostHour, hostHour, hostHourPoints } from "./support/host_hour.ts";
import { toOpenMetrics } from "./support/openmetrics.ts";

/** The host id the hour is stored under (metric series are keyed by it; no hosts row is needed). */
const HOST_ID = "bench-raw-tier-host";
/** Batches reach the hub this long after their last sample (the agent sends every 10 s). */
const DELIVERY_MS = 150;

/** What a raw tier occupies: bytes per existing table (with its indexes) and how they were counted. */
export interface RawTierSize {
  tables: Record<string, number>;
  bytes: number;
  method: string;
}

/** A storage figure: bytes for `samples` samples. */
export interface BytesPerSample {
  samples: number;
  bytes: number;
  bytesPerSample: number;
}

/**
 * Bytes of the raw-tier tables that exist in `dbh` (RAW_TIER_TABLES, or `tables`) and their
 * indexes. On SQLite the WAL is checkpointed into the file first; on PostgreSQL each is vacuumed.
 */
export async function rawTierBytes(
  dbh: DbHandle,
  tables: readonly string[] = RAW_TIER_TABLES,
): Promise<RawTierSize> {
  const out: Record<string, number> = {};
  if (dbh.dialect === "sqlite") {
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(dbh.db);
    const pages = new Map(
      (await sql<{ name: string; bytes: number }>`
        select name, sum(pgsize) as bytes from dbstat group by name`.execute(dbh.db)).rows
        .map((r) => [r.name, Number(r.bytes)]),
    );
    for (const table of tables) {
      if (!pages.has(table)) continue;
      const indexes = await sql<{ name: string }>`
        select name from sqlite_master where type = 'index' and tbl_name = ${table}`
        .execute(dbh.db);
      out[table] = indexes.rows.reduce((n, i) => n + (pages.get(i.name) ?? 0), pages.get(table)!);
    }
    return { tables: out, bytes: sum(out), method: "sqlite dbstat (sum of pgsize)" };
  }
  for (const table of tables) {
    const found = await sql<{ oid: string | null }>`select to_regclass(${table})::text as oid`
      .execute(dbh.db);
    if (!found.rows[0]?.oid) continue;
    // FULL: compaction deletes each batch's small chunks once merged; in steady operation the next
    // hours' inserts reuse that space, which one measured hour cannot show. This is the live data.
    await sql`vacuum full ${sql.id(table)}`.execute(dbh.db);
    const size = await sql<{ bytes: string | number }>`
      select pg_total_relation_size(to_regclass(${table})) as bytes`.execute(dbh.db);
    out[table] = Number(size.rows[0].bytes);
  }
  return {
    tables: out,
    bytes: sum(out),
    method: "postgresql pg_total_relation_size after VACUUM FULL",
  };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** What the scheduled jobs would have done by the end of the hour (the clock reads a minute after it). */
export type AfterHour = (dbh: DbHandle, clock: Clock) => Promise<unknown>;

/** The minute rollup, as its job (every minute) would have run by then. */
export const rollupAfterHour: AfterHour = async (dbh, clock) => {
  await createRollups(dbh.db, clock).run();
  // What the minute job does during and once the hour is over (after its settling margin): merge
  // each batch's small chunks into full ones.
  await createChunkCompaction(dbh, clock).run();
  await createChunkCompaction(dbh, { now: () => clock.now() + 10 * 60_000 }).run();
};

/**
 * Stores `hour` in `dbh` (migrated, empty) as the report route does: each batch through the metric
 * store's ingest at the time it would arrive, then `afterHour` (default: the minute rollup). Returns
 * the raw tier's size for the samples stored (all of them, or it throws).
 */
export async function capstanRawTier(
  dbh: DbHandle,
  hour: HostHour,
  afterHour: AfterHour = rollupAfterHour,
): Promise<BytesPerSample & RawTierSize> {
  let now = hour.start;
  const clock = { now: () => now };
  const store = createMetricStore(dbh, clock);
  let stored = 0;
  for (const batch of hour.batches) {
    now = batch.samples[batch.samples.length - 1].t + DELIVERY_MS;
    stored += (await store.ingest(HOST_ID, batch)).points;
  }
  if (stored !== hour.samples) {
    throw new Error(`Cannot measure the raw tier: ${stored} of ${hour.samples} samples stored`);
  }
  now += 60_000;
  await afterHour(dbh, clock);
  const size = await rawTierBytes(dbh);
  if (!size.bytes) {
    throw new Error(`Cannot measure the raw tier: none of ${RAW_TIER_TABLES.join(", ")} exists`);
  }
  return { ...size, samples: stored, bytesPerSample: size.bytes / stored };
}

/** Prometheus's blocks of the same samples: their bytes, how many, and the samples they hold. */
export interface PrometheusSize extends BytesPerSample {
  blocks: number;
}

/**
 * Writes `hour` as OpenMetrics into `dir`, has `promtool` (Debian's `prometheus` package) build
 * TSDB blocks from it (default block duration, 2 h: an hour on a 2 h boundary is one block), and
 * sums the files of every block (chunks/, index, meta.json, tombstones). Throws when the blocks do
 * not hold every sample.
 */
export async function prometheusBlocks(
  hour: HostHour,
  dir: string,
  promtool = "promtool",
): Promise<PrometheusSize> {
  const input = join(dir, "hour.om.txt");
  const outDir = join(dir, "blocks");
  await Deno.writeTextFile(input, toOpenMetrics("bench-host", hostHourPoints(hour.batches)));
  const out = await new Deno.Command(promtool, {
    args: ["tsdb", "create-blocks-from", "openmetrics", input, outDir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `promtool tsdb create-blocks-from failed: ${
        new TextDecoder().decode(out.stderr).slice(0, 500)
      }`,
    );
  }
  let bytes = 0, blocks = 0, samples = 0;
  for await (const e of Deno.readDir(outDir)) {
    if (!e.isDirectory) continue;
    blocks++;
    bytes += await treeBytes(join(outDir, e.name));
    const meta = JSON.parse(await Deno.readTextFile(join(outDir, e.name, "meta.json")));
    samples += Number(meta.stats?.numSamples ?? 0);
  }
  if (samples !== hour.samples) {
    throw new Error(`Prometheus's blocks hold ${samples} of ${hour.samples} samples`);
  }
  return { samples, bytes, blocks, bytesPerSample: bytes / samples };
}

async function treeBytes(path: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(path)) {
    const p = join(path, e.name);
    n += e.isDirectory ? await treeBytes(p) : (await Deno.stat(p)).size;
  }
  return n;
}

/** A fresh SQLite file database with the project's migrations, removed with its directory after `fn`. */
export async function withSqliteDb<T>(fn: (dbh: DbHandle) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-raw-tier-" });
  const dbh = openDatabase(`sqlite:${join(dir, "metrics.db")}`);
  try {
    await migrateToLatest(dbh.db);
    return await fn(dbh);
  } finally {
    await dbh.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Milliseconds to read one hour of one 1 s series from the stored hour, decoded (the median of 30
 * reads after a warm-up; on a machine shared with other work single reads wait for the CPU): the
 * samples a raw-tier chart or rollup starts from.
 */
export async function rawRangeQueryMs(dbh: DbHandle, hour: HostHour): Promise<number> {
  const { id } = await dbh.db.selectFrom("metric_series").select("id").where(
    "host_id",
    "=",
    HOST_ID,
  )
    .where("container_id", "=", "").where("key", "=", "cpu.total_pct").executeTakeFirstOrThrow();
  const sid = Number(id);
  const legacy = createLegacyRaw(Date.now);
  const read = () => readRaw(dbh.db, legacy, [sid], hour.start, hour.start + 3_600_000);
  const first = (await read()).get(sid)?.length ?? 0;
  if (first < 3000) throw new Error(`Cannot time the range read: ${first} samples in the hour`);
  for (let i = 0; i < 5; i++) await read();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await read();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * `raw_bytes_per_sample` (SQLite), `raw_bytes_per_sample_postgres` (with CAPSTAN_TEST_POSTGRES_URL),
 * `prometheus_bytes_per_sample`, `raw_bytes_vs_prometheus` and `raw_tier_samples`, through `record`.
 */
export async function rawTierBench(
  record: (name: string, value: number) => void,
  opts: { hour?: HostHour; afterHour?: AfterHour } = {},
): Promise<void> {
  const hour = opts.hour ?? hostHour();
  const lite = await withSqliteDb(async (dbh) => ({
    ...await capstanRawTier(dbh, hour, opts.afterHour),
    rangeMs: await rawRangeQueryMs(dbh, hour),
  }));
  console.log(`  (raw tier, ${lite.method}: ${JSON.stringify(lite.tables)} bytes)`);
  record("raw_tier_samples", lite.samples);
  record("raw_bytes_per_sample", lite.bytesPerSample);
  record("raw_range_query_ms", lite.rangeMs);
  if (TEST_POSTGRES_URL) {
    const dbh = await openTestDb("postgres");
    try {
      const pg = await capstanRawTier(dbh, hour, opts.afterHour);
      console.log(`  (raw tier, ${pg.method}: ${JSON.stringify(pg.tables)} bytes)`);
      record("raw_bytes_per_sample_postgres", pg.bytesPerSample);
      record("raw_range_query_ms_postgres", await rawRangeQueryMs(dbh, hour));
    } finally {
      await dbh.close();
    }
  } else console.log("raw_bytes_per_sample_postgres skipped (CAPSTAN_TEST_POSTGRES_URL unset)");
  const dir = await Deno.makeTempDir({ prefix: "capstan-prom-blocks-" });
  try {
    const prom = await prometheusBlocks(hour, dir);
    console.log(`  (prometheus: ${prom.blocks} block(s), ${prom.bytes} bytes)`);
    record("prometheus_bytes_per_sample", prom.bytesPerSample);
    record("raw_bytes_vs_prometheus", lite.bytesPerSample / prom.bytesPerSample);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    console.log("prometheus figures skipped: promtool not found (apt-get install prometheus)");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  await rawTierBench((name, value) => console.log(`${name.padEnd(40)} ${value}`));
}
