import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from "kysely";
import type { DatabaseSync } from "node:sqlite";

type Note = (err: unknown) => void;

async function noted<T>(note: Note, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    note(err);
    throw err;
  }
}

/** A connection that reports every error of its queries to `note`, then rethrows it. */
class ObservedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection, private readonly note: Note) {
    // Kysely calls these when present (cancelling, killing a session): forward them as they are.
    if (inner.cancelQuery) this.cancelQuery = inner.cancelQuery.bind(inner);
    if (inner.collectSessionInfo) this.collectSessionInfo = inner.collectSessionInfo.bind(inner);
    if (inner.killSession) this.killSession = inner.killSession.bind(inner);
  }
  cancelQuery?: DatabaseConnection["cancelQuery"];
  collectSessionInfo?: DatabaseConnection["collectSessionInfo"];
  killSession?: DatabaseConnection["killSession"];

  executeQuery<R>(q: CompiledQuery, options?: { signal?: AbortSignal }): Promise<QueryResult<R>> {
    return noted(this.note, this.inner.executeQuery<R>(q, options));
  }

  async *streamQuery<R>(
    q: CompiledQuery,
    chunkSize: number,
    options?: { signal?: AbortSignal },
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(q, chunkSize, options);
    } catch (err) {
      this.note(err);
      throw err;
    }
  }
}

const innerOf = (c: DatabaseConnection) => c instanceof ObservedConnection ? c.inner : c;

/**
 * Wraps a Kysely dialect so every error its connections meet — queries, begin, commit, getting a
 * connection at all — reaches `note` (a FailureLog keeps the storage failures for /healthz).
 */
export function observeDialect(dialect: Dialect, note: Note): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver(): Driver {
      const d = dialect.createDriver();
      const driver: Driver = {
        init: (o) => noted(note, d.init(o)),
        acquireConnection: async (o) =>
          new ObservedConnection(await noted(note, d.acquireConnection(o)), note),
        beginTransaction: (c, s: TransactionSettings) =>
          noted(note, d.beginTransaction(innerOf(c), s)),
        commitTransaction: (c) => noted(note, d.commitTransaction(innerOf(c))),
        rollbackTransaction: (c) => noted(note, d.rollbackTransaction(innerOf(c))),
        releaseConnection: (c, o) => d.releaseConnection(innerOf(c), o),
        destroy: (o) => d.destroy(o),
      };
      if (d.savepoint) {
        driver.savepoint = (c, n, compile) => noted(note, d.savepoint!(innerOf(c), n, compile));
      }
      if (d.rollbackToSavepoint) {
        driver.rollbackToSavepoint = (c, n, compile) =>
          noted(note, d.rollbackToSavepoint!(innerOf(c), n, compile));
      }
      if (d.releaseSavepoint) {
        driver.releaseSavepoint = (c, n, compile) =>
          noted(note, d.releaseSavepoint!(innerOf(c), n, compile));
      }
      return driver;
    },
  };
}

/**
 * Makes a node:sqlite connection report the errors of its statements to `note`, then rethrow
 * them. It wraps the connection itself, so Kysely's queries and the bulk paths that use the raw
 * connection (metric ingest) are both seen.
 */
export function observeSqlite(db: DatabaseSync, note: Note): void {
  const guard = <A extends unknown[], R>(fn: (...a: A) => R) => (...a: A): R => {
    try {
      return fn(...a);
    } catch (err) {
      note(err);
      throw err;
    }
  };
  const exec = db.exec.bind(db);
  const prepare = db.prepare.bind(db);
  db.exec = guard(exec);
  db.prepare = guard((sql: string) => {
    const stmt = prepare(sql);
    // Overloaded methods: the guard keeps their arguments as they are.
    stmt.run = guard(stmt.run.bind(stmt)) as typeof stmt.run;
    stmt.all = guard(stmt.all.bind(stmt)) as typeof stmt.all;
    stmt.get = guard(stmt.get.bind(stmt)) as typeof stmt.get;
    return stmt;
  });
}
