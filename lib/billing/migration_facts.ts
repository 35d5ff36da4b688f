import { type Kysely, sql } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Storage, egress and build facts (lib/billing/BILLING.md "Storage, egress and builds"):
 * storage segments (bytes per org, app and kind over time), per-container transmit counters and
 * the bytes they added per org, app and hour, builds recorded once each, and the instants each
 * fact started being metered (so nothing from before is billed).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("billing_storage")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .execute();
  await db.schema.createIndex("billing_storage_org_time").on("billing_storage")
    .columns(["org_id", "started_at"]).execute();
  // One open segment per (org, app, kind): two observers cannot both open one.
  await db.schema.createIndex("billing_storage_open").on("billing_storage")
    .columns(["org_id", "app_id", "kind"]).unique().where(sql.ref("ended_at"), "is", null)
    .execute();

  await db.schema.createTable("billing_egress_counters")
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("container_id", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("tx_bytes", "bigint", (c) => c.notNull())
    .addColumn("t", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("billing_egress_counters_pk", ["host_id", "container_id"])
    .execute();

  await db.schema.createTable("billing_egress")
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("billing_egress_pk", ["org_id", "hour", "app_id"])
    .execute();

  await db.schema.createTable("billing_builds")
    .addColumn("build_id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint", (c) => c.notNull())
    .addColumn("minutes", "integer", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("billing_builds_org_hour").on("billing_builds")
    .columns(["org_id", "hour"]).execute();

  await db.schema.createTable("billing_facts_state")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (
    const t of [
      "billing_storage",
      "billing_egress_counters",
      "billing_egress",
      "billing_builds",
      "billing_facts_state",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
