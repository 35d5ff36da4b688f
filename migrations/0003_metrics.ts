import { type Kysely, sql } from "kysely";
import { dialectOf } from "../lib/db/dialect_of.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Metrics: one row per series (host or container, key), raw samples, one-minute and one-hour
 * rollups with a mergeable histogram, the batch sequence numbers already committed (dedupe), and
 * the host-buckets whose rollups need computing.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = dialectOf(db) === "postgres";
  // Integer keys for time-series rows (DESIGN §4); SQLite's rowid alias or a PostgreSQL identity.
  await db.schema.createTable("metric_series")
    .addColumn(
      "id",
      pg ? "bigint" : "integer",
      (c) => pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn("host_id", "text", (c) => c.notNull())
    // '' for host series: NULLs would not collide in the unique constraint.
    .addColumn("container_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("metric_series_key", ["host_id", "container_id", "key"])
    .execute();

  // Time-series tables are clustered by (series, time) on SQLite: no rowid, the key is the table.
  const clustered = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(b: T): T =>
    pg ? b : b.modifyEnd(sql`without rowid`);

  await clustered(
    db.schema.createTable("metric_raw")
      .addColumn("series_id", "bigint", (c) => c.notNull())
      .addColumn("t", "bigint", (c) => c.notNull())
      .addColumn("v", "double precision", (c) => c.notNull())
      .addPrimaryKeyConstraint("metric_raw_pk", ["series_id", "t"]),
  ).execute();

  for (const tier of ["metric_1m", "metric_1h"]) {
    await clustered(
      db.schema.createTable(tier)
        .addColumn("series_id", "bigint", (c) => c.notNull())
        .addColumn("t", "bigint", (c) => c.notNull())
        .addColumn("min", "double precision", (c) => c.notNull())
        .addColumn("max", "double precision", (c) => c.notNull())
        .addColumn("sum", "double precision", (c) => c.notNull())
        .addColumn("count", "integer", (c) => c.notNull())
        .addColumn("hist", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint(`${tier}_pk`, ["series_id", "t"]),
    ).execute();
  }

  // The newest value of every series, for /metrics and fleet cards without scanning raw rows.
  await db.schema.createTable("metric_latest")
    .addColumn("series_id", "bigint", (c) => c.primaryKey())
    .addColumn("t", "bigint", (c) => c.notNull())
    .addColumn("v", "double precision", (c) => c.notNull())
    .execute();

  await db.schema.createTable("metric_batches")
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addColumn("samples", "integer", (c) => c.notNull())
    .addColumn("dropped", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("metric_batches_pk", ["host_id", "seq"])
    .execute();
  await db.schema.createIndex("metric_batches_received").on("metric_batches").column("received_at")
    .execute();

  await db.schema.createTable("metric_dirty")
    .addColumn("tier", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("bucket", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("metric_dirty_pk", ["tier", "host_id", "bucket"])
    .execute();
}

/** Drops the metrics tables. */
export async function down(db: AnyDb): Promise<void> {
  for (
    const t of [
      "metric_dirty",
      "metric_batches",
      "metric_1h",
      "metric_1m",
      "metric_raw",
      "metric_series",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
