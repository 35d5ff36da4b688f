/**
 * Retention of the alert history: resolved alerts and finished delivery records older than the
 * retention go, in bounded batches so one run never holds a long transaction. Firing alerts and
 * deliveries still pending are kept whatever their age (they are live state, not history).
 */
import type { Db } from "../db/mod.ts";

const DAY = 24 * 3600_000;
/** Rows deleted per statement; a run loops until a batch comes back short. */
const BATCH = 1000;
/** Upper bound of batches per run, so a huge backlog is worked off over several runs. */
const MAX_BATCHES = 100;

/** Deletes resolved alerts that ended, and sent/failed deliveries created, before `now - days`. */
export async function purgeAlertHistory(
  db: Db,
  now: number,
  retentionDays: number,
): Promise<{ alerts: number; deliveries: number }> {
  const cutoff = now - retentionDays * DAY;
  let alerts = 0;
  let deliveries = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const ids = db.selectFrom("alerts").select("id").where("state", "=", "resolved")
      .where("ended_at", "<", cutoff).limit(BATCH);
    const r = await db.deleteFrom("alerts").where("id", "in", ids).executeTakeFirst();
    const n = Number(r.numDeletedRows ?? 0);
    alerts += n;
    if (n < BATCH) break;
  }
  for (let i = 0; i < MAX_BATCHES; i++) {
    const ids = db.selectFrom("alert_deliveries").select("id").where("status", "!=", "pending")
      .where("created_at", "<", cutoff).limit(BATCH);
    const r = await db.deleteFrom("alert_deliveries").where("id", "in", ids).executeTakeFirst();
    const n = Number(r.numDeletedRows ?? 0);
    deliveries += n;
    if (n < BATCH) break;
  }
  return { alerts, deliveries };
}
