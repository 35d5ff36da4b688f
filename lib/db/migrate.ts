import { sql } from "kysely";
import { dialectOf } from "./dialect_of.ts";
import { Migrator } from "kysely/migration";
import { migrations } from "../../migrations/mod.ts";
import type { Db } from "./mod.ts";

/**
 * The schema migrations live in on PostgreSQL (`current_schema()`), undefined on SQLite. Kysely's
 * migrator otherwise looks for its own tables in every schema, so a database holding several
 * Capstan schemas (the parallel tests, one schema each) would skip creating them in a new one.
 */
async function migrationSchema(db: Db): Promise<string | undefined> {
  if (dialectOf(db) === "sqlite") return undefined;
  const r = await sql<{ s: string | null }>`select current_schema() as s`.execute(db);
  return r.rows[0]?.s ?? undefined;
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableSchema: await migrationSchema(db),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(
      `migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
