import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Wallet grace (lib/billing/wallet.ts): one row per org whose balance is below zero — in grace
 * until `ends_at`, then blocked. No row: the wallet is fine. Each transition is a conditional write
 * on this row, so two hub replicas cannot both make it (and both notify).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("billing_grace")
    .addColumn("org_id", "text", (c) => c.primaryKey())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ends_at", "bigint", (c) => c.notNull())
    .addColumn("halfway_notified", "integer", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("billing_grace").ifExists().execute();
}
