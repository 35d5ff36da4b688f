import type { Db } from "../db/mod.ts";

/**
 * Claims the time slot `slot` of job `name` for `holder`. Exactly one caller per (name, slot) gets
 * true, across processes and replicas sharing the database: the row is created for the first slot
 * and afterwards only moved forward by a conditional update, which both SQLite and PostgreSQL apply
 * atomically.
 */
export async function claimSlot(
  db: Db,
  name: string,
  slot: number,
  holder: string,
  now: number,
): Promise<boolean> {
  const inserted = await db.insertInto("job_leases").values({
    name,
    last_slot: slot,
    holder,
    claimed_at: now,
  })
    .onConflict((oc) => oc.column("name").doNothing()).executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
  const updated = await db.updateTable("job_leases").set({
    last_slot: slot,
    holder,
    claimed_at: now,
  })
    .where("name", "=", name).where("last_slot", "<", slot).executeTakeFirst();
  return Number(updated.numUpdatedRows ?? 0) === 1;
}
