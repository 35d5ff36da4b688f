import { type Kysely, sql } from "kysely";
import { dialectOf } from "../lib/db/dialect_of.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The raw tier as compressed chunks (lib/metrics/chunks.ts): one row per series and run of
 * samples, keyed (series_id, t0) and clustered on SQLite like the other time-series tables. Rows
 * of `metric_raw` stay where they are; the conversion job moves them while the hub runs
 * (chunk_migration.ts) and records its progress in `metric_chunk_migration`.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = dialectOf(db) === "postgres";
  let chunks = db.schema.createTable("metric_chunks")
    .addColumn("series_id", "bigint", (c) => c.notNull())
    .addColumn("t0", "bigint", (c) => c.notNull())
    .addColumn("t1", "bigint", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .addColumn("data", pg ? "bytea" : "blob", (c) => c.notNull())
    .addPrimaryKeyConstraint("metric_chunks_pk", ["series_id", "t0"]);
  if (!pg) chunks = chunks.modifyEnd(sql`without rowid`);
  await chunks.execute();

  // The host-hours whose small per-batch chunks compaction has yet to merge (chunk_compaction.ts).
  await db.schema.createTable("metric_compact")
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("hour", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("metric_compact_pk", ["host_id", "hour"])
    .execute();

  await db.schema.createTable("metric_chunk_migration")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("total_rows", "bigint", (c) => c.notNull())
    .addColumn("converted_rows", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("metric_chunk_migration").ifExists().execute();
  await db.schema.dropTable("metric_compact").ifExists().execute();
  await db.schema.dropTable("metric_chunks").ifExists().execute();
}
