import assert from "node:assert/strict";
import { openSqlite } from "./sqlite.ts";

Deno.test("openSqlite() prepares a query shape once and keeps a bounded number of statements", () => {
  const db = openSqlite(":memory:");
  let prepared = 0;
  const prepare = db.raw.prepare.bind(db.raw);
  db.raw.prepare = (sql: string) => (prepared++, prepare(sql));
  db.prepare("create table t (x int)").run([]);
  // Kysely prepares every query it runs; each statement holds native memory until V8 collects
  // it, which under load was hundreds of MB. The same shape must reuse one statement.
  for (let i = 0; i < 1000; i++) db.prepare("insert into t values (?)").run([i]);
  assert.equal(prepared, 2);
  assert.equal((db.prepare("select count(*) as n from t").all([]) as { n: number }[])[0].n, 1000);
  for (let i = 0; i < 600; i++) db.prepare(`select ${i} as v`).all([]);
  prepared = 0;
  db.prepare("insert into t values (?)").run([1]);
  assert.equal(prepared, 1, "evicted after 500 newer shapes, prepared again");
  db.close();
});
