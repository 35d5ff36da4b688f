import { type Kysely, sql } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Metering and the ledger (lib/billing/BILLING.md): usage segments, hourly cycles with their line
 * items, the ledger of signed entries with its cached balance per org, and price plans.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("billing_usage")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("replicas", "integer", (c) => c.notNull())
    .addColumn("cpu_millis", "bigint", (c) => c.notNull())
    .addColumn("memory_bytes", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .execute();
  await db.schema.createIndex("billing_usage_org_time").on("billing_usage")
    .columns(["org_id", "started_at"]).execute();
  // At most one open segment per service: two hub replicas observing at once cannot both open one.
  await db.schema.createIndex("billing_usage_open").on("billing_usage")
    .columns(["app_id", "service"]).unique().where(sql.ref("ended_at"), "is", null).execute();

  await db.schema.createTable("billing_cycles")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("total", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("billing_cycles_org_hour").on("billing_cycles")
    .columns(["org_id", "hour"]).unique().execute();

  await db.schema.createTable("billing_line_items")
    .addColumn("cycle_id", "text", (c) => c.notNull().references("billing_cycles.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("quantity", "text", (c) => c.notNull())
    .addColumn("unit_price", "bigint", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("billing_line_items_pk", ["cycle_id", "app_id", "resource"])
    .execute();
  await db.schema.createIndex("billing_line_items_org_hour").on("billing_line_items")
    .columns(["org_id", "hour"]).execute();

  await db.schema.createTable("billing_ledger")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("reference", "text")
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("note", "text")
    .execute();
  await db.schema.createIndex("billing_ledger_org_at").on("billing_ledger")
    .columns(["org_id", "at"]).execute();
  // A cycle is charged once, a payment credited once (NULL references are distinct).
  await db.schema.createIndex("billing_ledger_reference").on("billing_ledger")
    .columns(["kind", "reference"]).unique().execute();

  await db.schema.createTable("billing_wallets")
    .addColumn("org_id", "text", (c) => c.primaryKey())
    .addColumn("balance", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema.createTable("billing_plans")
    .addColumn("scope", "text", (c) => c.primaryKey())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("cpu_core_hour", "bigint", (c) => c.notNull())
    .addColumn("memory_gib_hour", "bigint", (c) => c.notNull())
    .addColumn("storage_gib_month", "bigint", (c) => c.notNull())
    .addColumn("egress_gib", "bigint", (c) => c.notNull())
    .addColumn("build_minute", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "text")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (
    const t of [
      "billing_line_items",
      "billing_cycles",
      "billing_usage",
      "billing_ledger",
      "billing_wallets",
      "billing_plans",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
