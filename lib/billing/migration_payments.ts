import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Wallet top-ups through a payment provider (lib/billing/payments): one row per checkout an org
 * admin started. The provider's order id is unique (set once the provider answered; NULL until
 * then, and NULLs do not collide on either dialect). The money itself moves only by the ledger's
 * `top_up` entry referencing the provider's capture id, unique per kind.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("billing_payments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("provider_order_id", "text")
    .addColumn("approve_url", "text")
    .addColumn("capture_id", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("billing_payments_order").on("billing_payments")
    .columns(["provider", "provider_order_id"]).unique().execute();
  await db.schema.createIndex("billing_payments_org").on("billing_payments")
    .columns(["org_id", "created_at"]).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("billing_payments").ifExists().execute();
}
