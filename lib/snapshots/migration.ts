import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Volume snapshots: the org's storage targets (secrets encrypted), the volumes Capstan knows
 * with their settings and sync state, every snapshot and restore, and the schedules.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("storage_targets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("config", "text", (c) => c.notNull())
    .addColumn("secrets", "text", (c) => c.notNull())
    .addColumn("secrets_key_id", "text", (c) => c.notNull())
    .addColumn("is_default", "integer", (c) => c.notNull())
    .addColumn("tested_at", "bigint")
    .addColumn("test_ok", "integer")
    .addColumn("test_error", "text")
    .addColumn("verify_cron", "text", (c) => c.notNull())
    .addColumn("verified_at", "bigint")
    .addColumn("verify_status", "text", (c) => c.notNull())
    .addColumn("verify_error", "text")
    .addColumn("verify_next_at", "bigint")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("storage_targets_org_name", ["org_id", "name"])
    .execute();

  await db.schema.createTable("snapshot_volumes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("volume", "text", (c) => c.notNull())
    .addColumn("app_id", "text")
    .addColumn("service", "text")
    .addColumn("target_id", "text")
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("dump", "text")
    .addColumn("on_stop", "integer", (c) => c.notNull())
    .addColumn("sync", "integer", (c) => c.notNull())
    .addColumn("size_bytes", "bigint")
    .addColumn("synced_snapshot_id", "text")
    .addColumn("synced_at", "bigint")
    .addColumn("sync_state", "text", (c) => c.notNull())
    .addColumn("sync_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("snapshot_volumes_host_volume", ["org_id", "host_id", "volume"])
    .execute();
  await db.schema.createIndex("snapshot_volumes_app").on("snapshot_volumes")
    .columns(["app_id", "volume"]).execute();

  await db.schema.createTable("snapshots")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("volume_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("volume", "text", (c) => c.notNull())
    .addColumn("app_id", "text")
    .addColumn("target_id", "text", (c) => c.notNull())
    .addColumn("restic_id", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("schedule_id", "text")
    .addColumn("files", "bigint")
    .addColumn("files_new", "bigint")
    .addColumn("files_changed", "bigint")
    .addColumn("bytes_processed", "bigint")
    .addColumn("bytes_added", "bigint")
    .addColumn("progress_bytes", "bigint")
    .addColumn("progress_total", "bigint")
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("heartbeat_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addColumn("duration_ms", "bigint")
    .addColumn("error", "text")
    .addColumn("created_by", "text")
    .execute();
  await db.schema.createIndex("snapshots_volume").on("snapshots")
    .columns(["volume_id", "started_at"]).execute();
  await db.schema.createIndex("snapshots_org").on("snapshots")
    .columns(["org_id", "started_at"]).execute();
  await db.schema.createIndex("snapshots_status").on("snapshots")
    .columns(["status", "heartbeat_at"]).execute();

  await db.schema.createTable("snapshot_schedules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn(
      "volume_id",
      "text",
      (c) => c.notNull().references("snapshot_volumes.id").onDelete("cascade"),
    )
    .addColumn("cron", "text", (c) => c.notNull())
    .addColumn("timezone", "text", (c) => c.notNull())
    .addColumn("keep_last", "integer")
    .addColumn("keep_daily", "integer")
    .addColumn("keep_weekly", "integer")
    .addColumn("keep_monthly", "integer")
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("next_run_at", "bigint")
    .addColumn("last_run_at", "bigint")
    .addColumn("last_snapshot_id", "text")
    .addColumn("last_error", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("snapshot_schedules_due").on("snapshot_schedules")
    .columns(["enabled", "next_run_at"]).execute();

  await db.schema.createTable("snapshot_restores")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("snapshot_id", "text", (c) => c.notNull())
    .addColumn("host_id", "text", (c) => c.notNull())
    .addColumn("volume", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("progress_bytes", "bigint")
    .addColumn("progress_total", "bigint")
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("heartbeat_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addColumn("error", "text")
    .addColumn("created_by", "text")
    .execute();
  await db.schema.createIndex("snapshot_restores_org").on("snapshot_restores")
    .columns(["org_id", "started_at"]).execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (
    const t of [
      "snapshot_restores",
      "snapshot_schedules",
      "snapshots",
      "snapshot_volumes",
      "storage_targets",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
