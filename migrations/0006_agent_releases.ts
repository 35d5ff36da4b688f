import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Agent releases: the signed manifests the hub was given (files live under the data dir), staged
 * rollouts of them, and each host's reported update outcome.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("agent_releases")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("version", "text", (c) => c.notNull().unique())
    // The manifest's exact text (the signature covers these bytes) and its base64 signature.
    .addColumn("manifest", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    // uploading (files still arriving through the API) | ready
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema.createTable("agent_rollouts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "release_id",
      "text",
      (c) => c.notNull().references("agent_releases.id").onDelete("cascade"),
    )
    // Share of hosts (by a stable hash of the host id) and/or a host label key=value.
    .addColumn("percent", "integer", (c) => c.notNull())
    .addColumn("label", "text")
    // 1: hosts move to this version even when it is older (an admin's pin allows a downgrade).
    .addColumn("pinned", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_failures", "integer", (c) => c.notNull())
    .addColumn("max_failure_percent", "integer", (c) => c.notNull())
    // active | halted | superseded
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("halted_reason", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("agent_rollouts_status").on("agent_rollouts")
    .columns(["status", "created_at"]).execute();

  await db.schema.createTable("agent_update_outcomes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("host_id", "text", (c) => c.notNull().references("hosts.id").onDelete("cascade"))
    .addColumn("rollout_id", "text")
    .addColumn("from_version", "text", (c) => c.notNull())
    .addColumn("to_version", "text", (c) => c.notNull())
    // succeeded | rolled_back | rejected | failed
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("agent_update_outcomes_host").on("agent_update_outcomes")
    .columns(["host_id", "at"]).execute();
  await db.schema.createIndex("agent_update_outcomes_rollout").on("agent_update_outcomes")
    .columns(["rollout_id", "host_id"]).execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ["agent_update_outcomes", "agent_rollouts", "agent_releases"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
