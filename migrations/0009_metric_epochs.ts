import { type Kysely, sql } from "kysely";
import { dialectOf } from "../lib/db/dialect_of.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Metric ingest integrity: batch sequence numbers carry the agent's spool epoch (a new spool starts
 * again at seq 0 without its batches being taken for retries of the old ones), and one row per host
 * keeps what ingest saw of its agent (epoch, clock skew, refused samples, reported problems) for
 * the host page.
 */
export async function up(db: AnyDb): Promise<void> {
  if (dialectOf(db) === "postgres") {
    await sql`alter table metric_batches add column epoch text not null default ''`.execute(db);
    await sql`alter table metric_batches drop constraint metric_batches_pk`.execute(db);
    await sql`alter table metric_batches add constraint metric_batches_pk primary key (host_id, epoch, seq)`
      .execute(db);
  } else {
    // SQLite cannot change a primary key in place: rebuild the table.
    await batchesTable(db, "metric_batches_new", ["host_id", "epoch", "seq"]);
    await sql`insert into metric_batches_new (host_id, epoch, seq, received_at, samples, dropped)
      select host_id, '', seq, received_at, samples, dropped from metric_batches`.execute(db);
    await db.schema.dropTable("metric_batches").execute();
    await sql`alter table metric_batches_new rename to metric_batches`.execute(db);
    await db.schema.createIndex("metric_batches_received").on("metric_batches")
      .column("received_at").execute();
  }

  await db.schema.createTable("metric_agents")
    .addColumn("host_id", "text", (c) => c.primaryKey())
    // The epoch of the agent's current spool ('' for agents that send none), since when, and the one before.
    .addColumn("epoch", "text", (c) => c.notNull())
    .addColumn("epoch_since", "bigint", (c) => c.notNull())
    .addColumn("prev_epoch", "text")
    .addColumn("last_report_at", "bigint", (c) => c.notNull())
    // The last report that stored at least one sample (a clock far off gets every sample refused).
    .addColumn("last_stored_at", "bigint")
    // Agent clock minus hub clock as last measured, ms (null: the agent does not say its time).
    .addColumn("skew_ms", "bigint")
    .addColumn("refused_future", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("refused_old", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("refused_at", "bigint")
    // What the agent said was wrong on its side in its last report (spool unwritable, …), and the
    // samples it has lost since it started.
    .addColumn("problem", "text")
    .addColumn("lost", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Drops the agents table and the epoch (keeping one batch row per host and seq). */
export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("metric_agents").ifExists().execute();
  if (dialectOf(db) === "postgres") {
    await sql`delete from metric_batches b using metric_batches o
      where b.host_id = o.host_id and b.seq = o.seq and b.epoch < o.epoch`.execute(db);
    await sql`alter table metric_batches drop constraint metric_batches_pk`.execute(db);
    await sql`alter table metric_batches drop column epoch`.execute(db);
    await sql`alter table metric_batches add constraint metric_batches_pk primary key (host_id, seq)`
      .execute(db);
    return;
  }
  await batchesTable(db, "metric_batches_old", ["host_id", "seq"]);
  await sql`insert into metric_batches_old (host_id, seq, received_at, samples, dropped)
    select host_id, seq, max(received_at), max(samples), max(dropped) from metric_batches
    group by host_id, seq`.execute(db);
  await db.schema.dropTable("metric_batches").execute();
  await sql`alter table metric_batches_old rename to metric_batches`.execute(db);
  await db.schema.createIndex("metric_batches_received").on("metric_batches").column("received_at")
    .execute();
}

async function batchesTable(db: AnyDb, name: string, key: string[]) {
  let t = db.schema.createTable(name)
    .addColumn("host_id", "text", (c) => c.notNull());
  if (key.includes("epoch")) t = t.addColumn("epoch", "text", (c) => c.notNull().defaultTo(""));
  await t.addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addColumn("samples", "integer", (c) => c.notNull())
    .addColumn("dropped", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint(`${name}_pk`, key as never)
    .execute();
}
