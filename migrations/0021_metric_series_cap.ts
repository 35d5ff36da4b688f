import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Series churn (issue 20): per host, the series a batch could not create because the host reached
 * its series limit (distinct series as far as one hub process can tell, and their samples), when
 * that last happened, and a generation that retention bumps whenever it deletes series of the host,
 * so every hub process knows its cached series ids of that host may be stale (store.ts).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("metric_agents")
    .addColumn("capped_series", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("metric_agents")
    .addColumn("capped_samples", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("metric_agents").addColumn("capped_at", "bigint").execute();
  await db.schema.alterTable("metric_agents")
    .addColumn("series_gen", "bigint", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const column of ["series_gen", "capped_at", "capped_samples", "capped_series"]) {
    await db.schema.alterTable("metric_agents").dropColumn(column).execute();
  }
}
