import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/** NAS backup status: SSH targets per organization (credentials encrypted) and their sites. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("nas_targets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("port", "integer", (c) => c.notNull())
    .addColumn("user", "text", (c) => c.notNull())
    .addColumn("auth", "text", (c) => c.notNull())
    .addColumn("credentials", "text", (c) => c.notNull())
    .addColumn("credentials_key_id", "text", (c) => c.notNull())
    .addColumn("public_key", "text")
    .addColumn("key_fingerprint", "text")
    .addColumn("known_host", "text")
    .addColumn("known_host_fingerprint", "text")
    .addColumn("backup_root", "text", (c) => c.notNull())
    .addColumn("stale_threshold_hours", "integer", (c) => c.notNull())
    .addColumn("last_checked_at", "bigint")
    .addColumn("last_error", "text")
    .addColumn("truncated", "integer", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("nas_targets_org_name", ["org_id", "name"])
    .execute();

  await db.schema.createTable("nas_sites")
    .addColumn(
      "target_id",
      "text",
      (c) => c.notNull().references("nas_targets.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("newest_path", "text", (c) => c.notNull())
    .addColumn("newest_mtime", "bigint", (c) => c.notNull())
    .addColumn("checked_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("nas_sites_pk", ["target_id", "name"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ["nas_sites", "nas_targets"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
