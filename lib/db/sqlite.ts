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
  // Kysely prepares every query it runs. A statement's native memory is freed only when V8
  // collects its wrapper, which a roomy heap does rarely: under 50 API writers that held hundreds
  // of MB. The same query shapes recur, so statements are kept by SQL text (bounded, LRU).
  const cache = new Map<string, ReturnType<typeof wrap>>();
  const wrap = (stmt: ReturnType<DatabaseSync["prepare"]>) => {
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
  };
  return {
    raw: db,
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) cache.delete(sql);
      else stmt = wrap(db.prepare(sql));
      cache.set(sql, stmt);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
}

/** Prepared statements kept per connection (distinct query shapes; the hub has a few hundred). */
const STATEMENT_CACHE = 500;

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
