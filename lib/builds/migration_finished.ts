import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Builds by end time: the billing module asks every minute for the builds that ended since its
 * last one (store.ts `endedSince`), which without this index reads the whole table.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createIndex("builds_finished").on("builds").columns(["finished_at"]).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex("builds_finished").ifExists().execute();
}
