import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createFailureLog, isStorageFailure } from "./failures.ts";
import { observeSqlite } from "./observe.ts";
import { manualClock } from "../../tests/support/clock.ts";

/** The error node:sqlite throws for `sql` on a read-only connection, or for a broken constraint. */
function sqliteError(readOnly: boolean): unknown {
  const db = new DatabaseSync(":memory:");
  db.exec("create table t (x int primary key)");
  db.exec("insert into t values (1)");
  if (readOnly) db.exec("PRAGMA query_only = 1");
  try {
    db.exec(readOnly ? "insert into t values (2)" : "insert into t values (1)");
  } catch (err) {
    return err;
  } finally {
    db.close();
  }
  throw new Error("no error");
}

Deno.test("isStorageFailure() tells a database that cannot store from a query that is wrong", () => {
  assert.equal(isStorageFailure(sqliteError(true)), true, "read-only database");
  assert.equal(isStorageFailure(sqliteError(false)), false, "constraint");
  assert.equal(isStorageFailure({ code: "ERR_SQLITE_ERROR", errcode: 13 }), true, "disk full");
  assert.equal(isStorageFailure({ code: "53100" }), true, "PostgreSQL disk full");
  assert.equal(isStorageFailure({ code: "57P01" }), true, "PostgreSQL shutting down");
  assert.equal(isStorageFailure({ code: "25006" }), true, "read-only server");
  assert.equal(isStorageFailure({ code: "23505" }), false, "unique violation");
  assert.equal(isStorageFailure({ code: "ECONNREFUSED" }), true);
  assert.equal(isStorageFailure({ code: "CONNECTION_CLOSED" }), true);
  assert.equal(isStorageFailure(new Error("boom")), false);
});

Deno.test("createFailureLog() reports the failures of the last minute only", () => {
  const clock = manualClock();
  const log = createFailureLog(clock);
  log.note(new Error("not a storage failure"));
  assert.equal(log.recent(), undefined);
  log.note({ code: "ERR_SQLITE_ERROR", errcode: 13, message: "database or disk is full" });
  clock.advance(30_000);
  log.note(
    Object.assign(new Error("database or disk is full"), { code: "ERR_SQLITE_ERROR", errcode: 13 }),
  );
  assert.deepEqual(log.recent(), {
    lastAt: clock.now(),
    lastError: "database or disk is full",
    count: 2,
  });
  clock.advance(45_000);
  assert.equal(log.recent()?.count, 1);
  clock.advance(16_000);
  assert.equal(log.recent(), undefined);
});

Deno.test("observeSqlite() sees failures of statements and of exec, and passes results through", () => {
  const db = new DatabaseSync(":memory:");
  const seen: unknown[] = [];
  observeSqlite(db, (e) => seen.push(e));
  db.exec("create table t (x int primary key)");
  const insert = db.prepare("insert into t values (?)");
  assert.equal(insert.run(1).changes, 1);
  assert.throws(() => insert.run(1), /UNIQUE/);
  db.exec("PRAGMA query_only = 1");
  assert.throws(() => db.exec("insert into t values (3)"), /readonly/);
  assert.deepEqual(db.prepare("select x from t").all().map((r) => r.x), [1]);
  assert.equal(seen.length, 2);
  db.close();
});
