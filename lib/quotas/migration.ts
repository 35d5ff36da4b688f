import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/** Quotas (lib/quotas): the install's default limits and per-organization overrides. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("quota_defaults")
    .addColumn("resource", "text", (c) => c.primaryKey())
    .addColumn("value", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "text")
    .execute();
  await db.schema.createTable("quota_overrides")
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("value", "bigint")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("set_by", "text")
    .addColumn("set_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("quota_overrides_pk", ["org_id", "resource"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("quota_overrides").execute();
  await db.schema.dropTable("quota_defaults").execute();
}
