import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * An app's priority (integer, higher = more important, default 0): when a quota violation's
 * grace period ends and the install's action is `stop_lowest_priority`
 * (CAPSTAN_QUOTA_VIOLATION_ACTION), the org's running apps are stopped lowest priority first
 * (ties: newest first) until the violated resource fits (lib/enforcement).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("apps")
    .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("apps").dropColumn("priority").execute();
}
