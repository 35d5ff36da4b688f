import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/** Hosts (each reached through its agent), single-use enrollment tokens, and the container cache. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("hosts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull().defaultTo("{}"))
    // 1 for the hub's embedded agent (in-process transport, no token).
    .addColumn("local", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("machine_id", "text")
    .addColumn("token_hash", "text", (c) => c.unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("enrolled_at", "bigint")
    .addColumn("last_seen_at", "bigint")
    .addColumn("agent_version", "text")
    .addColumn("hostname", "text")
    .addColumn("docker_version", "text")
    .addColumn("os", "text")
    .addColumn("kernel", "text")
    .addColumn("arch", "text")
    .addColumn("cpus", "integer")
    .addColumn("memory_bytes", "bigint")
    .addColumn("containers_running", "integer")
    .addColumn("containers_total", "integer")
    .addColumn("engine", "text", (c) => c.notNull().defaultTo("{}"))
    // Set when removed with its history kept; removed hosts are hidden and their tokens are gone.
    .addColumn("removed_at", "bigint")
    .execute();
  // Names are unique among a organization's live hosts; the service checks (removed ones may repeat).
  await db.schema.createIndex("hosts_org").on("hosts").columns(["org_id", "name"]).execute();

  await db.schema.createTable("host_enrollments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();

  await db.schema.createTable("containers")
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id").onDelete("cascade"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("image", "text", (c) => c.notNull())
    .addColumn("image_id", "text", (c) => c.notNull())
    .addColumn("command", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created", "bigint", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("ports", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("containers_pk", ["host_id", "id"])
    .execute();
  await db.schema.createIndex("containers_org_name").on("containers").columns(["org_id", "name"])
    .execute();
}

/** Drops the tables `up` created. */
export async function down(db: AnyDb): Promise<void> {
  for (const t of ["containers", "host_enrollments", "hosts"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
