import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Alerts: rules, the persisted state of each (rule, subject) so a restarted hub neither loses nor
 * repeats an alert, the alert history, notification channels (config encrypted at rest), the
 * delivery queue, and each user's read mark for the notification center.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("alert_rules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    // host (value: host id) | label (value: key=value) | org (value: null)
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("scope_value", "text")
    .addColumn("kind", "text", (c) => c.notNull())
    // Metric rules: series name (a family such as fs.used_pct matches every mount) on the host or
    // on each container, compared with op against trigger; clear is the hysteresis threshold.
    .addColumn("metric", "text")
    .addColumn("container", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("op", "text", (c) => c.notNull().defaultTo(">"))
    .addColumn("trigger_value", "double precision")
    .addColumn("clear_value", "double precision")
    .addColumn("hold_s", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("mode", "text", (c) => c.notNull().defaultTo("instant"))
    .addColumn("window_s", "integer", (c) => c.notNull().defaultTo(60))
    // Event rules: host_offline | container_exited | restart_loop | unhealthy | oom | data_root_size
    .addColumn("event", "text")
    .addColumn("event_count", "integer")
    .addColumn("event_window_s", "integer")
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("repeat_s", "integer", (c) => c.notNull().defaultTo(0))
    // Quiet hours in minutes of the day, local to tz offset minutes; null start = none.
    .addColumn("quiet_start", "integer")
    .addColumn("quiet_end", "integer")
    .addColumn("quiet_tz_offset", "integer", (c) => c.notNull().defaultTo(0))
    // JSON: "all" or an array of channel ids.
    .addColumn("channels", "text", (c) => c.notNull().defaultTo('"all"'))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("alert_rules_org").on("alert_rules").columns(["org_id", "name"])
    .execute();

  await db.schema.createTable("alert_rule_states")
    .addColumn(
      "rule_id",
      "text",
      (c) => c.notNull().references("alert_rules.id").onDelete("cascade"),
    )
    // host id, host id + series labels, or host id/container id
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("container_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("since", "bigint", (c) => c.notNull())
    .addColumn("value", "double precision")
    .addColumn("last_event_at", "bigint")
    .addColumn("last_notified_at", "bigint")
    .addColumn("alert_id", "text")
    .addColumn("silenced_until", "bigint")
    // Compare-and-set counter: replicas that evaluated the same subject cannot both fire it.
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("alert_rule_states_pk", ["rule_id", "subject"])
    .execute();
  await db.schema.createIndex("alert_rule_states_org").on("alert_rule_states").columns([
    "org_id",
    "state",
  ]).execute();

  await db.schema.createTable("alerts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("rule_id", "text")
    .addColumn("rule_name", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("host_id", "text")
    .addColumn("host_name", "text")
    .addColumn("container_id", "text")
    .addColumn("container_name", "text")
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("value", "double precision")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .addColumn("acknowledged_by", "text")
    .addColumn("acknowledged_at", "bigint")
    .addColumn("silenced_until", "bigint")
    // 1 when notifications were withheld because the container's host was offline.
    .addColumn("muted", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("alerts_org_id").on("alerts").columns(["org_id", "id"]).execute();
  await db.schema.createIndex("alerts_org_host").on("alerts").columns(["org_id", "host_id", "id"])
    .execute();
  await db.schema.createIndex("alerts_org_started").on("alerts").columns(["org_id", "started_at"])
    .execute();

  await db.schema.createTable("alert_channels")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    // The whole kind-specific config, encrypted (lib/crypto/secrets.ts), bound to the channel id.
    .addColumn("config", "text", (c) => c.notNull())
    // What may be shown: hints such as the URL's host, never a secret.
    .addColumn("summary", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("alert_channels_org").on("alert_channels").columns([
    "org_id",
    "name",
  ]).execute();

  await db.schema.createTable("alert_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("alert_id", "text")
    .addColumn(
      "channel_id",
      "text",
      (c) => c.notNull().references("alert_channels.id").onDelete("cascade"),
    )
    // firing | resolved | reminder | test
    .addColumn("event", "text", (c) => c.notNull())
    // pending | sent | failed
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    // Set while one replica sends it, so the retry job elsewhere leaves it alone.
    .addColumn("claimed_until", "bigint")
    // The rendered message (no secrets), so a retry says exactly what the first attempt said.
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("sent_at", "bigint")
    .execute();
  await db.schema.createIndex("alert_deliveries_due").on("alert_deliveries").columns([
    "status",
    "next_attempt_at",
  ]).execute();
  await db.schema.createIndex("alert_deliveries_channel").on("alert_deliveries").columns([
    "channel_id",
    "id",
  ]).execute();

  await db.schema.createTable("alert_reads")
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("last_read_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("alert_reads_pk", ["user_id", "org_id"])
    .execute();
}

/** Drops the tables `up` created. */
export async function down(db: AnyDb): Promise<void> {
  for (
    const t of [
      "alert_reads",
      "alert_deliveries",
      "alert_channels",
      "alerts",
      "alert_rule_states",
      "alert_rules",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
