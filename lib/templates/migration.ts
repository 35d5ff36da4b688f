import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/** Organizations' own templates and every provisioning of a template (built-in or not). */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("org_templates")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("template_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("org_templates_org_template", ["org_id", "template_id"])
    .execute();

  await db.schema.createTable("template_provisions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("template_id", "text", (c) => c.notNull())
    .addColumn("template_version", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("source_ref", "text")
    .addColumn("app_name", "text", (c) => c.notNull())
    .addColumn("app_id", "text")
    .addColumn("domain", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("step", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("values_json", "text", (c) => c.notNull())
    .addColumn("steps", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema.createIndex("template_provisions_org").on("template_provisions")
    .columns(["org_id", "id"]).execute();
  await db.schema.createIndex("template_provisions_app").on("template_provisions")
    .column("app_id").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("template_provisions").execute();
  await db.schema.dropTable("org_templates").execute();
}
