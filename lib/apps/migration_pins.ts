import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Where a deployment pinned its services: JSON, service name → Swarm node id, for apps whose
 * migration policy is manual or none (empty for automatic). "Move to" writes a new deployment
 * with another node; the next deployment keeps the pins of the current one.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("deployments")
    .addColumn("pins", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("deployments").dropColumn("pins").execute();
}
