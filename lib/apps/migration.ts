import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Apps on Swarm: the one cluster of the install, which host is which Swarm node, apps with their
 * editable spec, the immutable deployments (spec snapshot, resolved images, trigger, outcome) and
 * the app's event timeline (deploy progress, tasks moved off a failed node).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("swarm_cluster")
    // One row: the install's cluster.
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("swarm_id", "text", (c) => c.notNull())
    .addColumn("manager_host_id", "text", (c) => c.references("hosts.id").onDelete("set null"))
    .addColumn("advertise_addr", "text", (c) => c.notNull())
    // Whether Swarm's routing mesh works (IPVS in the manager's kernel): VIPs and ingress ports.
    .addColumn("routing_mesh", "integer", (c) => c.notNull())
    // Whether overlay networks are created encrypted (IPsec needs kernel support too).
    .addColumn("encrypted_networks", "integer", (c) => c.notNull())
    .addColumn("adopted", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema.createTable("swarm_members")
    .addColumn("host_id", "text", (c) => c.primaryKey().references("hosts.id").onDelete("cascade"))
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("joined_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("swarm_members_node").on("swarm_members").column("node_id")
    .unique().execute();

  await db.schema.createTable("apps")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull())
    // JSON of the AppSpec (lib/apps/spec.ts) as last saved; a deploy snapshots it.
    .addColumn("spec", "text", (c) => c.notNull())
    // automatic | manual | none
    .addColumn("migration_policy", "text", (c) => c.notNull().defaultTo("automatic"))
    // running | stopped: what the user asked for, applied on top of the current deployment.
    .addColumn("desired_state", "text", (c) => c.notNull().defaultTo("running"))
    // Set only once a deployment reached running (DESIGN §8).
    .addColumn("current_deployment_id", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("apps_org_name").on("apps").columns(["org_id", "name"]).unique()
    .execute();

  await db.schema.createTable("deployments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    // 1, 2, 3 … per app: what users call "deployment #7".
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("spec", "text", (c) => c.notNull())
    // JSON: service name → the image reference pinned for this deployment (digest or image id).
    .addColumn("images", "text", (c) => c.notNull().defaultTo("{}"))
    // JSON: { kind: create|deploy|rollback|scale|restart|…, actor_type, actor_id, from? }.
    .addColumn("trigger", "text", (c) => c.notNull())
    // pending | deploying | running | failed | rolled_back | superseded
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema.createIndex("deployments_app_number").on("deployments")
    .columns(["app_id", "number"]).unique().execute();
  await db.schema.createIndex("deployments_status").on("deployments").column("status").execute();

  await db.schema.createTable("app_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    // deploy | task | node | scale | …
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
  await db.schema.createIndex("app_events_app_at").on("app_events").columns(["app_id", "at"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ["app_events", "deployments", "apps", "swarm_members", "swarm_cluster"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
