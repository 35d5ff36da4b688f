/**
 * Retention of check results: rows older than the retention (CAPSTAN_HEALTH_RETENTION_DAYS, 30 by
 * default) go, in bounded batches so one run never holds a long transaction; the hourly job is
 * lease-protected like the other purges.
 */
import type { Db } from "../db/mod.ts";

const DAY = 24 * 3600_000;
/** Rows deleted per statement; a run loops until a batch comes back short. */
const BATCH = 5000;
/** Upper bound of batches per run, so a huge backlog is worked off over several runs. */
const MAX_BATCHES = 100;

/** Deletes results older than the retention, in bounded batches (the hourly job). */
export async function purgeHealthResults(
  db: Db,
  now: number,
  retentionDays: number,
): Promise<{ results: number }> {
  const cutoff = now - retentionDays * DAY;
  let results = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const ids = db.selectFrom("health_results").select("id").where("at", "<", cutoff).limit(BATCH);
    const r = await db.deleteFrom("health_results").where("id", "in", ids).executeTakeFirst();
    const n = Number(r.numDeletedRows ?? 0);
    results += n;
    if (n < BATCH) break;
  }
  return { results };
}
