import type { Kysely } from "kysely";
import { dialectOf } from "../lib/db/dialect_of.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The raw tier's head (lib/metrics/head.ts): one row per ingested batch holding every series of
 * it in a cheap encoding, so a batch writes one or two pages instead of one per series. Compaction
 * moves head rows into per-series chunks (chunk_compaction.ts); readers union both. `id` orders
 * rows as written (a sample already stored wins over a later one at the same time); the index
 * serves readers and compaction, which always ask for one host's rows.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = dialectOf(db) === "postgres";
  await db.schema.createTable("metric_head")
    .addColumn("id", pg ? "bigserial" : "integer", (c) => c.primaryKey())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("t0", "bigint", (c) => c.notNull())
    .addColumn("t1", "bigint", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .addColumn("data", pg ? "bytea" : "blob", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("metric_head_host").on("metric_head").columns(["host_id", "id"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("metric_head").ifExists().execute();
}
