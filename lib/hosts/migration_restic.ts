import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The restic version each host's agent reported in its hello (volume snapshots need restic ≥
 * 0.14 on the host that has the volume); null until reported, or when the host has none.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("hosts").addColumn("restic_version", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("hosts").dropColumn("restic_version").execute();
}
