import { sql } from "kysely";
import { type DbHandle, openDatabase } from "../../lib/db/mod.ts";
import { migrateToLatest } from "../../lib/db/migrate.ts";

/** PostgreSQL for tests; CI sets it, and without it in CI the [postgres] tests fail instead of skipping. */
export const TEST_POSTGRES_URL = Deno.env.get("CAPSTAN_TEST_POSTGRES_URL");
const IN_CI = Deno.env.get("CI") === "true";

let warned = false;
function warnSkip() {
  if (!warned && !TEST_POSTGRES_URL) {
    warned = true;
    console.log(
      "note: [postgres] tests are ignored because CAPSTAN_TEST_POSTGRES_URL is not set (CI sets it)",
    );
  }
}

/** A migrated, empty database of one dialect; PostgreSQL gets a schema of its own that is dropped afterwards. */
export async function openTestDb(
  dialect: "sqlite" | "postgres",
): Promise<DbHandle & { url: string; searchPath?: string }> {
  if (dialect === "sqlite") {
    const h = openDatabase("sqlite::memory:");
    await migrateToLatest(h.db);
    return { ...h, url: "sqlite::memory:" };
  }
  if (!TEST_POSTGRES_URL) throw new Error("CAPSTAN_TEST_POSTGRES_URL is required in CI");
  const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = openDatabase(TEST_POSTGRES_URL);
  await sql`create schema ${sql.id(schema)}`.execute(admin.db);
  await admin.close();
  const h = openDatabase(TEST_POSTGRES_URL, { searchPath: schema });
  // Kysely's migrator lists tables of every schema; a parallel test dropping its own schema at that
  // moment makes the catalog query fail with "schema … does not exist". Retry: the race is theirs.
  for (let attempt = 1;; attempt++) {
    try {
      await migrateToLatest(h.db);
      break;
    } catch (err) {
      if (attempt >= 5 || !/does not exist|deadlock/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  return {
    ...h,
    url: TEST_POSTGRES_URL,
    searchPath: schema,
    close: async () => {
      // Close the test's pool first (it lets queries in flight finish): dropping the schema under
      // a transaction still running in the background (a host going offline, a last batch) locks
      // tables in another order and deadlocks.
      await h.close();
      const admin = openDatabase(TEST_POSTGRES_URL);
      try {
        await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
      } finally {
        await admin.close();
      }
    },
  };
}

/**
 * Registers `fn` once per dialect as `[sqlite] name` and `[postgres] name`; `opts.ignore` ignores
 * both (e.g. a Docker test where no engine runs, see dockerTestsIgnored).
 */
export function dbTest(
  name: string,
  fn: (h: DbHandle) => Promise<void>,
  opts: { ignore?: boolean } = {},
): void {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const noPostgres = dialect === "postgres" && !TEST_POSTGRES_URL && !IN_CI;
    if (noPostgres && !opts.ignore) warnSkip();
    Deno.test({
      name: `[${dialect}] ${name}`,
      ignore: Boolean(opts.ignore) || noPostgres,
      async fn() {
        const h = await openTestDb(dialect);
        try {
          await fn(h);
        } finally {
          await h.close();
        }
      },
    });
  }
}

/**
 * Like dbTest, but hands `fn` a database URL other processes can open too (an admin task run as a
 * subprocess, a hub): a SQLite file in a temporary directory, or a PostgreSQL URL whose
 * `search_path` names a schema of the test's own (migrated, dropped afterwards).
 */
export function dbUrlTest(
  name: string,
  fn: (db: { url: string; dialect: "sqlite" | "postgres" }) => Promise<void>,
  opts: { ignore?: boolean } = {},
): void {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const noPostgres = dialect === "postgres" && !TEST_POSTGRES_URL && !IN_CI;
    if (noPostgres && !opts.ignore) warnSkip();
    Deno.test({
      name: `[${dialect}] ${name}`,
      ignore: Boolean(opts.ignore) || noPostgres,
      async fn() {
        if (dialect === "sqlite") {
          const dir = await Deno.makeTempDir({ prefix: "capstan-db-" });
          try {
            await fn({ url: `sqlite:${dir}/capstan.db`, dialect });
          } finally {
            await Deno.remove(dir, { recursive: true }).catch(() => {});
          }
          return;
        }
        const h = await openTestDb(dialect);
        try {
          const url = new URL(h.url);
          url.searchParams.set("search_path", h.searchPath!);
          await fn({ url: url.toString(), dialect });
        } finally {
          await h.close();
        }
      },
    });
  }
}
