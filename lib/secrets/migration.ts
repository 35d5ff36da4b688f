import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Secrets of organizations: the secret (name unique in its organization), its versions (each an
 * encrypted blob with the id of the key that wraps its data key) and its trail.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("secrets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("current_version", "integer", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("secrets_org_name", ["org_id", "name"])
    .execute();

  await db.schema.createTable("secret_versions")
    .addColumn("secret_id", "text", (c) => c.notNull().references("secrets.id").onDelete("cascade"))
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("blob", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("size_bytes", "integer", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("secret_versions_pk", ["secret_id", "version"])
    .execute();
  await db.schema.createIndex("secret_versions_key").on("secret_versions").column("key_id")
    .execute();

  await db.schema.createTable("secret_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("secret_id", "text", (c) => c.notNull().references("secrets.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("version", "integer")
    .addColumn("actor_name", "text")
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("secret_events_secret").on("secret_events").columns([
    "secret_id",
    "id",
  ]).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("secret_events").execute();
  await db.schema.dropTable("secret_versions").execute();
  await db.schema.dropTable("secrets").execute();
}
