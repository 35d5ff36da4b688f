import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import { dialectOf } from "../db/dialect_of.ts";
import type { Clock } from "../util/clock.ts";
import type { Rollups } from "./rollup.ts";
import { createPacer, type Pacer, type Pacing } from "./pacer.ts";
import { hostLockKey, SERIES_LOCK } from "./store.ts";
import { drainHead } from "./chunk_compaction.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Batch sequence numbers are kept this long to recognise retries. */
const BATCH_DEDUPE_MS = 7 * DAY;

/**
 * Series per delete, so one statement removes about an hour's expired rows of a few thousand rows
 * when the job runs hourly: raw rows are one a second, minute rows one a minute, hour rows one an
 * hour. One `t < cutoff` delete over a whole table walks every row of it (the key is
 * (series_id, t)) and held the thread for as long; per series it is a short range of the key.
 */
const SERIES_PER_DELETE = {
  metric_raw: 2,
  // Per series as many samples go per statement as from metric_raw (the pacer counts samples).
  metric_chunks: 2,
  metric_1m: 100,
  metric_1h: 1000,
} as const;

/** Series looked at per query when finding those with no data left: a few key probes each. */
const SERIES_PER_CHECK = 500;

/**
 * Whether a series (the `metric_series` row of the statement) has no data left: no row in any
 * tier and no latest value at or after `latestFrom`. Each test is a probe of a primary key.
 */
const noDataLeft = (latestFrom: number) =>
  sql<boolean>`not exists (select 1 from metric_chunks c where c.series_id = metric_series.id)
    and not exists (select 1 from metric_raw r where r.series_id = metric_series.id)
    and not exists (select 1 from metric_1m m where m.series_id = metric_series.id)
    and not exists (select 1 from metric_1h h where h.series_id = metric_series.id)
    and not exists (select 1 from metric_latest l where l.series_id = metric_series.id and l.t >= ${latestFrom})`;

/**
 * Deletes the series with no data left (containers come and go: each leaves a few dozen series
 * behind) with their latest values; returns how many. A series whose newest sample is older than
 * the raw window and whose rows have all expired is gone: a later sample of the same key (only a
 * sample inside the raw window is stored) makes a fresh series.
 *
 * Per host, in transactions of at most SERIES_PER_CHECK series, that test again what they delete
 * and bump the host's `series_gen`, which tells every hub process that its cached series ids of
 * the host may be stale (store.ts). On PostgreSQL each holds the host's SERIES_LOCK exclusive, so
 * it waits for the batches of the host in flight, its test sees what they wrote, and the batches
 * after it read the new generation. `forget` drops this process's cached ids at once.
 */
async function deleteDeadSeries(
  db: Db,
  ids: number[],
  latestFrom: number,
  pacer: Pacer,
  forget?: (seriesIds: number[]) => void,
): Promise<number> {
  const pg = dialectOf(db) === "postgres";
  let deleted = 0;
  for (let i = 0; i < ids.length; i += SERIES_PER_CHECK) {
    const slice = ids.slice(i, i + SERIES_PER_CHECK);
    const dead = await db.selectFrom("metric_series").select(["id", "host_id"])
      .where("id", "in", slice).where(noDataLeft(latestFrom)).execute();
    await pacer.step(slice.length);
    const byHost = new Map<string, number[]>();
    for (const r of dead) {
      let list = byHost.get(r.host_id);
      if (!list) byHost.set(r.host_id, list = []);
      list.push(Number(r.id));
    }
    for (const [hostId, candidates] of byHost) {
      const gone = await db.transaction().execute(async (tx) => {
        if (pg) {
          await sql`select pg_advisory_xact_lock(${SERIES_LOCK}, ${hostLockKey(hostId)}::int)`
            .execute(tx);
        }
        const rows = await tx.deleteFrom("metric_series").where("host_id", "=", hostId)
          .where("id", "in", candidates).where(noDataLeft(latestFrom)).returning("id").execute();
        const gone = rows.map((r) => Number(r.id));
        if (gone.length) {
          await tx.deleteFrom("metric_latest").where("series_id", "in", gone).execute();
          await tx.updateTable("metric_agents").set((eb) => ({
            series_gen: eb("series_gen", "+", 1),
          }))
            .where("host_id", "=", hostId).execute();
        }
        return gone;
      });
      forget?.(gone);
      deleted += gone.length;
      await pacer.step(candidates.length + gone.length);
    }
  }
  return deleted;
}

/**
 * Deletes metric rows past each tier's retention, then the series left without data; rolls dirty
 * buckets up first so nothing unrolled is lost. Works in small deletes and yields to the event loop between slices (pacer.ts).
 */
export async function applyMetricsRetention(
  db: Db,
  clock: Clock,
  rollups: Rollups,
  keep: { rawHours: number; minuteDays: number; hourDays: number },
  pacing: Pacing = {},
  /** Drops the deleted series from the metric store's caches in this process (store.forget). */
  forget?: (seriesIds: number[]) => void,
): Promise<Record<string, number>> {
  await rollups.run({ all: true });
  const now = clock.now();
  const pacer = createPacer(pacing);
  // The head into chunks first (compaction does it every minute anyway), so what expires is
  // deleted per series below, in small paced steps.
  await drainHead(db, dialectOf(db), pacer);
  const ids = (await db.selectFrom("metric_series").select("id").orderBy("id").execute())
    .map((r) => Number(r.id));
  const del = async (table: keyof typeof SERIES_PER_DELETE, before: number) => {
    let deleted = 0;
    const n = SERIES_PER_DELETE[table];
    for (let i = 0; i < ids.length; i += n) {
      // A chunk goes once its newest sample is past: one straddling the cutoff stays whole, so
      // the raw tier keeps at most an hour more than asked.
      const slice = ids.slice(i, i + n);
      let rows: number;
      if (table === "metric_chunks") {
        // A chunk goes once its newest sample is past: one straddling the cutoff stays whole, so
        // the raw tier keeps at most an hour more than asked. Its samples are what is counted.
        const gone = await db.deleteFrom(table).where("series_id", "in", slice)
          .where("t1", "<", before).returning("n").execute();
        // Paced by samples, as the one-row-per-sample table was: slices stay as short or shorter.
        rows = gone.reduce((a, r) => a + Number(r.n), 0);
        deleted += rows;
      } else {
        const r = await db.deleteFrom(table).where("series_id", "in", slice)
          .where("t", "<", before).executeTakeFirst();
        rows = Number(r.numDeletedRows ?? 0);
        deleted += rows;
      }
      await pacer.step(rows + 1);
    }
    return deleted;
  };
  // Head rows written since the drain (batches not yet moved into chunks, head.ts) go whole once
  // their newest sample is past, as chunks do.
  const head = await db.deleteFrom("metric_head").where("t1", "<", now - keep.rawHours * HOUR)
    .returning("n").execute();
  const out = {
    raw: head.reduce((a, r) => a + Number(r.n), 0) +
      await del("metric_chunks", now - keep.rawHours * HOUR) +
      await del("metric_raw", now - keep.rawHours * HOUR),
    minute: await del("metric_1m", now - keep.minuteDays * DAY),
    hour: await del("metric_1h", now - keep.hourDays * DAY),
    series: await deleteDeadSeries(db, ids, now - keep.rawHours * HOUR, pacer, forget),
    batches: Number(
      (await db.deleteFrom("metric_batches").where("received_at", "<", now - BATCH_DEDUPE_MS)
        .executeTakeFirst())
        .numDeletedRows ?? 0,
    ),
  };
  return out;
}
