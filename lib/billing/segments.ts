/**
 * What usage segments (usage.ts) and storage segments (facts.ts) share: both tile time per key with
 * at most one open row, and two hub replicas observing at once must not both change it.
 */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { isUniqueViolation } from "../db/unique.ts";

/** Another replica changed the open segments first: the caller's transaction gives way whole. */
export class Raced extends Error {}

/** True when a write lost to another replica: a segment closed first, or a second open one refused. */
export function lostRace(err: unknown): boolean {
  return err instanceof Raced || isUniqueViolation(err);
}

/**
 * Ends the open segment `seg` at `at` (whole seconds), or deletes it when it starts at or after `at`
 * (it would be empty), only while it is still open. A replica that closed it first wins: Raced.
 */
export async function closeSegment(
  tx: Transaction<Database>,
  table: "billing_usage" | "billing_storage",
  seg: { id: string; started_at: number },
  at: number,
): Promise<void> {
  const r = Number(seg.started_at) >= at
    ? (await tx.deleteFrom(table).where("id", "=", seg.id).where("ended_at", "is", null)
      .executeTakeFirst()).numDeletedRows
    : (await tx.updateTable(table).set({ ended_at: at }).where("id", "=", seg.id)
      .where("ended_at", "is", null).executeTakeFirst()).numUpdatedRows;
  if (Number(r) !== 1) throw new Raced();
}
