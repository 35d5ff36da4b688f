import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The containers of each app's Swarm tasks, as the apps module saw them: which host ran which
 * container for which app, service and slot, first and last seen. App metrics read an app's
 * containers over a range from here, including containers long replaced (see task_containers.ts).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("app_task_containers")
    .addColumn("host_id", "text", (c) => c.notNull())
    // The 64-hex Docker id, as the agent's metric series name the container.
    .addColumn("container_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("service", "text", (c) => c.notNull())
    // The task's slot (1, 2 …) in a replicated service; null in a global one.
    .addColumn("slot", "integer")
    .addColumn("task_id", "text", (c) => c.notNull())
    .addColumn("first_seen", "bigint", (c) => c.notNull())
    .addColumn("last_seen", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("app_task_containers_pk", ["host_id", "container_id"])
    .execute();
  await db.schema.createIndex("app_task_containers_app").on("app_task_containers")
    .columns(["app_id", "last_seen"]).execute();
  await db.schema.createIndex("app_task_containers_seen").on("app_task_containers")
    .column("last_seen").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("app_task_containers").ifExists().execute();
}
