import type { Kysely } from "kysely";
import { dialectOf } from "../lib/db/dialect_of.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Health checks: one row per check (manual, or declared by a container's labels) carrying its
 * state machine and last result, and the result history (integer keys, DESIGN §4) kept per the
 * retention setting.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = dialectOf(db) === "postgres";
  await db.schema.createTable("health_checks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id").onDelete("cascade"))
    .addColumn("container_id", "text", (c) => c.notNull())
    .addColumn("container_name", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    // http | tcp | docker | command
    .addColumn("kind", "text", (c) => c.notNull())
    // JSON of the kind's probe (lib/protocol/health.ts): HttpProbe, TcpProbe, CommandProbe or {}.
    .addColumn("config", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("interval_s", "integer", (c) => c.notNull())
    .addColumn("timeout_s", "integer", (c) => c.notNull())
    .addColumn("retries", "integer", (c) => c.notNull())
    .addColumn("start_delay_s", "integer", (c) => c.notNull().defaultTo(0))
    // manual | label
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    // unknown | healthy | unhealthy
    .addColumn("state", "text", (c) => c.notNull().defaultTo("unknown"))
    .addColumn("state_since", "bigint", (c) => c.notNull())
    .addColumn("consecutive_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("consecutive_successes", "integer", (c) => c.notNull().defaultTo(0))
    // When the start delay began: the check's creation or the container's last start.
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("last_at", "bigint")
    .addColumn("last_ok", "integer")
    .addColumn("last_response_ms", "double precision")
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("health_checks_org").on("health_checks")
    .columns(["org_id", "state"]).execute();
  await db.schema.createIndex("health_checks_host").on("health_checks")
    .columns(["host_id", "container_id"]).execute();

  await db.schema.createTable("health_results")
    .addColumn(
      "id",
      pg ? "bigint" : "integer",
      (c) => pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn(
      "check_id",
      "text",
      (c) => c.notNull().references("health_checks.id").onDelete("cascade"),
    )
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("ok", "integer", (c) => c.notNull())
    .addColumn("response_ms", "double precision")
    .addColumn("status_code", "integer")
    .addColumn("exit_code", "integer")
    .addColumn("error", "text")
    .addColumn("output", "text")
    .execute();
  // History pages and uptime/response-time aggregates read one check's rows by time.
  await db.schema.createIndex("health_results_check_at").on("health_results")
    .columns(["check_id", "at"]).execute();
  // Retention deletes by time across checks.
  await db.schema.createIndex("health_results_at").on("health_results").column("at").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("health_results").ifExists().execute();
  await db.schema.dropTable("health_checks").ifExists().execute();
}
