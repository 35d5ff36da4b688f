import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import { ensurePrivateSqliteFile } from "../private_files.ts";
import type { DatabaseSync } from "node:sqlite";
import { CapstanSqliteDialect } from "./sqlite.ts";
import type { Database } from "./schema.ts";
import { parsePostgresUrl } from "./pg_url.ts";
import { createFailureLog, type FailureLog } from "./failures.ts";
import { observeDialect, observeSqlite } from "./observe.ts";

export type Dialect = "sqlite" | "postgres";
export type Db = Kysely<Database>;

/** An open database: the Kysely handle, which dialect it speaks, and for PostgreSQL the raw client (LISTEN/NOTIFY). */
export interface DbHandle {
  db: Db;
  dialect: Dialect;
  /** postgres.js client, present on PostgreSQL only. */
  pg?: postgres.Sql;
  /**
   * The node:sqlite connection, present on SQLite only. Use it only inside `db.connection()`, which
   * holds Kysely's connection mutex, so no Kysely transaction is open on it at the same time.
   */
  sqlite?: DatabaseSync;
  /** Storage failures its queries met (a full disk, an unreachable server), for /healthz. */
  failures: FailureLog;
  close(): Promise<void>;
}

/**
 * Opens `sqlite:<path>` or `postgres://…` (libpq-style, e.g. `postgres:///db?host=/var/run/postgresql`
 * for a Unix socket); `search_path` isolates a schema (tests use one per run).
 */
export function openDatabase(url: string, options: { searchPath?: string } = {}): DbHandle {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path !== ":memory:") ensurePrivateSqliteFile(path);
    const dialect = new CapstanSqliteDialect(path);
    const failures = createFailureLog();
    observeSqlite(dialect.raw, failures.note);
    const db = new Kysely<Database>({ dialect });
    return { db, dialect: "sqlite", sqlite: dialect.raw, failures, close: () => db.destroy() };
  }
  const { connection, ...target } = parsePostgresUrl(url);
  const pg = postgres({
    ...target,
    max: 10,
    onnotice: () => {},
    // Timestamps are int8 milliseconds; parse them as numbers rather than postgres.js's default strings.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number) => String(x),
        parse: (x: string) => Number(x),
      },
    },
    connection: {
      ...connection,
      ...(options.searchPath ? { search_path: options.searchPath } : {}),
    },
  });
  const failures = createFailureLog();
  const db = new Kysely<Database>({
    dialect: observeDialect(new PostgresJSDialect({ postgres: pg }), failures.note),
  });
  return {
    db,
    dialect: "postgres",
    pg,
    failures,
    close: async () => {
      // postgres.js can wait forever in end() for a connection Kysely reserved and released
      // (porsager/postgres#925): give in-flight queries 2 s, then close; destroy() finds it ended.
      await pg.end({ timeout: 2 });
      await db.destroy();
    },
  };
}
