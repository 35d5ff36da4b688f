/** `deno task migrate`: applies pending migrations to the configured database. */
import { loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";

const config = loadConfig();
const dbh = openDatabase(config.databaseUrl);
try {
  const applied = await migrateToLatest(dbh.db);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
} finally {
  await dbh.close();
}
