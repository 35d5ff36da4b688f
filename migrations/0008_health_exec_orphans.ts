import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Issue 11, health checks: a check remembers when its container went away (it stops running and
 * raises no alert until a container of that name is back), and a stored result says whether its
 * output was cut to the size limit.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("health_checks").addColumn("container_gone_at", "bigint").execute();
  await db.schema.alterTable("health_results")
    .addColumn("output_truncated", "integer", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("health_results").dropColumn("output_truncated").execute();
  await db.schema.alterTable("health_checks").dropColumn("container_gone_at").execute();
}
