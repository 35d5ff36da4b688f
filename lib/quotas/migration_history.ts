import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Quota history (lib/quotas/watch.ts): per org, limited resource and UTC hour, the most used in
 * that hour and the limit last seen in it — one row per hour (the 30 s job upserts it only when
 * the figure grows or the limit changes). Kept 90 days; the job prunes older hours (by `hour`,
 * hence its index).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("quota_history")
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .addColumn("max_used", "bigint", (c) => c.notNull())
    .addColumn("limit_value", "bigint")
    .addPrimaryKeyConstraint("quota_history_pk", ["org_id", "resource", "hour"])
    .execute();
  await db.schema.createIndex("quota_history_hour").on("quota_history").column("hour").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("quota_history").ifExists().execute();
}
