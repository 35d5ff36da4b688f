import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The secret versions a deployment used: JSON, secret name → { id, version }. A rollback deploys
 * the versions its target used (while they exist); the diff names version changes, never values.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("deployments")
    .addColumn("secrets", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("deployments").dropColumn("secrets").execute();
}
