import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from "kysely";

/**
 * Adapts `node:sqlite` to the interface Kysely's SqliteDialect expects. Whether a statement returns
 * rows is read from `columns()`, so `INSERT … RETURNING` yields its rows (the reason this is not
 * the npm adapter).
 */
export function openSqlite(path: string): SqliteDatabase & { raw: DatabaseSync } {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA synchronous = NORMAL");
  return {
    raw: db,
    close: () => db.close(),
    prepare(sql: string) {
      const stmt = db.prepare(sql);
      const params = (p: readonly unknown[]) => p.map(toSqlite);
      return {
        reader: stmt.columns().length > 0,
        all: (p: readonly unknown[]) => stmt.all(...params(p)),
        iterate: (p: readonly unknown[]) => stmt.iterate(...params(p)),
        run: (p: readonly unknown[]) => {
          const r = stmt.run(...params(p));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
      };
    },
  };
}

function toSqlite(v: unknown): SQLInputValue {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === undefined) return null;
  return v as SQLInputValue;
}

/**
 * Kysely's driver opens transactions with plain `BEGIN`, which takes the write lock lazily and can
 * fail with SQLITE_BUSY mid-transaction when another process writes. `BEGIN IMMEDIATE` takes it up
 * front, waiting up to busy_timeout, so there is one writer at a time.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/** SqliteDialect whose transactions begin IMMEDIATE. */
export class CapstanSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  /** The one node:sqlite connection behind Kysely (for bulk paths that run inside `db.connection()`). */
  readonly raw: DatabaseSync;
  constructor(path: string) {
    const database = openSqlite(path);
    const config: SqliteDialectConfig = { database: () => Promise.resolve(database) };
    super(config);
    this.#config = config;
    this.raw = database.raw;
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
}
