import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Quota utilisation (lib/quotas/watch.ts): one row per org and limited resource, recalculated every
 * 30 s — the use, the limit, the percentage, the level held and since when, and a violation's
 * grace period. Level changes are conditional writes on this row (where the level and `since` are
 * the ones read), so of two hub replicas exactly one makes each change and tells it.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("quota_usage")
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("used", "bigint", (c) => c.notNull())
    .addColumn("limit_value", "bigint")
    .addColumn("pct", "integer")
    .addColumn("level", "text", (c) => c.notNull())
    .addColumn("since", "bigint", (c) => c.notNull())
    .addColumn("grace_ends_at", "bigint")
    .addColumn("blocked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("quota_usage_pk", ["org_id", "resource"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("quota_usage").ifExists().execute();
}
