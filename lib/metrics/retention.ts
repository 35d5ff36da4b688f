import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Rollups } from "./rollup.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Batch sequence numbers are kept this long to recognise retries. */
const BATCH_DEDUPE_MS = 7 * DAY;

/** Deletes metric rows past each tier's retention; rolls dirty buckets up first so nothing unrolled is lost. */
export async function applyMetricsRetention(
  db: Db,
  clock: Clock,
  rollups: Rollups,
  keep: { rawHours: number; minuteDays: number; hourDays: number },
): Promise<Record<string, number>> {
  await rollups.run({ all: true });
  const now = clock.now();
  const del = async (table: "metric_raw" | "metric_1m" | "metric_1h", before: number) =>
    Number(
      (await db.deleteFrom(table).where("t", "<", before).executeTakeFirst()).numDeletedRows ?? 0,
    );
  const out = {
    raw: await del("metric_raw", now - keep.rawHours * HOUR),
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
