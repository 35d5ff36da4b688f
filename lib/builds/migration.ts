import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Builds from Git: each service's source (credentials encrypted), each app's webhook and the
 * deliveries it received, the builds (a queue per worker) and their compressed logs.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("build_sources")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("repo_url", "text", (c) => c.notNull())
    .addColumn("branch", "text", (c) => c.notNull())
    .addColumn("subdir", "text", (c) => c.notNull())
    .addColumn("build_file", "text", (c) => c.notNull())
    .addColumn("builder", "text", (c) => c.notNull())
    .addColumn("build_args", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("auth", "text", (c) => c.notNull())
    .addColumn("credentials", "text", (c) => c.notNull())
    .addColumn("credentials_key_id", "text", (c) => c.notNull())
    .addColumn("ssh_public_key", "text")
    .addColumn("ssh_fingerprint", "text")
    .addColumn("known_host", "text")
    .addColumn("known_host_fingerprint", "text")
    .addColumn("auto_deploy", "integer", (c) => c.notNull())
    .addColumn("build_tags", "integer", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("build_sources_app_service", ["app_id", "service"])
    .execute();

  await db.schema.createTable("build_hooks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn(
      "app_id",
      "text",
      (c) => c.notNull().unique().references("apps.id").onDelete("cascade"),
    )
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("secret_key_id", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("rotated_at", "bigint", (c) => c.notNull())
    .addColumn("bad_count", "integer", (c) => c.notNull())
    .addColumn("bad_window_at", "bigint", (c) => c.notNull())
    .addColumn("disabled_until", "bigint")
    .execute();

  await db.schema.createTable("build_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("hook_id", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("delivery_id", "text")
    .addColumn("branch", "text")
    .addColumn("commit_sha", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("build_id", "text")
    .addColumn("push", "text")
    .execute();
  await db.schema.createIndex("build_deliveries_app").on("build_deliveries").columns([
    "app_id",
    "id",
  ]).execute();
  // A replayed delivery id is recognised by this index (NULL ids never collide).
  await db.schema.createIndex("build_deliveries_seen").on("build_deliveries").columns([
    "hook_id",
    "delivery_id",
  ]).unique().execute();

  await db.schema.createTable("builds")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("actor_id", "text")
    .addColumn("actor_name", "text")
    .addColumn("delivery_id", "text")
    .addColumn("repo_url", "text", (c) => c.notNull())
    .addColumn("branch", "text", (c) => c.notNull())
    .addColumn("commit_sha", "text")
    .addColumn("commit_author", "text")
    .addColumn("commit_message", "text")
    .addColumn("builder", "text")
    .addColumn("plan", "text")
    .addColumn("dockerfile", "text")
    .addColumn("host_id", "text")
    .addColumn("runner", "text")
    .addColumn("cancel_requested", "integer", (c) => c.notNull())
    .addColumn("image", "text")
    .addColumn("image_id", "text")
    .addColumn("size_bytes", "bigint")
    .addColumn("failure", "text")
    .addColumn("error", "text")
    .addColumn("deploy", "integer", (c) => c.notNull())
    .addColumn("deployment_id", "text")
    .addColumn("queued_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addColumn("heartbeat_at", "bigint")
    .addUniqueConstraint("builds_app_number", ["app_id", "number"])
    .execute();
  await db.schema.createIndex("builds_state").on("builds").columns(["state", "queued_at"])
    .execute();

  await db.schema.createTable("build_logs")
    .addColumn(
      "build_id",
      "text",
      (c) => c.primaryKey().references("builds.id").onDelete("cascade"),
    )
    .addColumn("gz", "text", (c) => c.notNull())
    .addColumn("raw_bytes", "integer", (c) => c.notNull())
    .addColumn("dropped_bytes", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ["build_logs", "builds", "build_deliveries", "build_hooks", "build_sources"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
