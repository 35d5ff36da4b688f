import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Rollups } from "./rollup.ts";
import { createPacer, type Pacing } from "./pacer.ts";

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

/**
 * Deletes metric rows past each tier's retention; rolls dirty buckets up first so nothing unrolled
 * is lost. Works in small deletes and yields to the event loop between slices (pacer.ts).
 */
export async function applyMetricsRetention(
  db: Db,
  clock: Clock,
  rollups: Rollups,
  keep: { rawHours: number; minuteDays: number; hourDays: number },
  pacing: Pacing = {},
): Promise<Record<string, number>> {
  await rollups.run({ all: true });
  const now = clock.now();
  const pacer = createPacer(pacing);
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
  const out = {
    raw: await del("metric_chunks", now - keep.rawHours * HOUR) +
      await del("metric_raw", now - keep.rawHours * HOUR),
    minute: await del("metric_1m", now - keep.minuteDays * DAY),
    hour: await del("metric_1h", now - keep.hourDays * DAY),
    batches: Number(
      (await db.deleteFrom("metric_batches").where("received_at", "<", now - BATCH_DEDUPE_MS)
        .executeTakeFirst())
        .numDeletedRows ?? 0,
    ),
  };
  return out;
}
