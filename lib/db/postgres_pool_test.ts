/**
 * The PostgreSQL client's pool must never put a transaction's BEGIN behind another query on a
 * connection, nor hand one connection to two holders. postgres.js 3.4.9 pipelined a BEGIN onto a
 * busy connection (porsager/postgres#823, #1189): the query ahead of it answered "idle", which
 * ended the transaction's reservation before it began, so the transaction's next query failed with
 * CONNECTION_CLOSED (or ran outside it), and the connection could be reserved by someone else
 * meanwhile. The hub's PostgreSQL ingest met it as one 500 in a few thousand reports under load.
 * lib/db/vendor/postgres carries the fix. Run against CAPSTAN_TEST_POSTGRES_URL.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { TEST_POSTGRES_URL } from "../../tests/support/db.ts";

const ignore = !TEST_POSTGRES_URL && Deno.env.get("CI") !== "true";

Deno.test({
  name: "[postgres] a transaction begun while its only connection is busy waits, and runs whole",
  ignore,
  async fn() {
    const pg = postgres(TEST_POSTGRES_URL!, { max: 1, onnotice: () => {} });
    try {
      await pg`select 1`;
      const busy = pg`select pg_sleep(0.2)`;
      const tx = pg.begin(async (t) => {
        const [a] = await t`select txid_current() as x`;
        const [b] = await t`select txid_current() as x`;
        return [a.x, b.x];
      });
      const [, [a, b]] = await Promise.all([busy, tx]);
      assert.equal(a, b, "both queries ran in the transaction");
    } finally {
      await pg.end({ timeout: 5 });
    }
  },
});

Deno.test({
  name:
    "[postgres] a reservation waiting for the busy connection gets it alone, though a transaction begins at that moment",
  ignore,
  async fn() {
    const pg = postgres(TEST_POSTGRES_URL!, { max: 1, onnotice: () => {} });
    try {
      await pg`select 1`;
      const first = pg`select pg_sleep(0.1)`;
      const reservation = pg.reserve(); // waits: the one connection is busy
      // Begun as soon as the first query answers: the moment the connection is handed over.
      const tx = first.then(() =>
        pg.begin(async (t) => {
          const [a] = await t`select txid_current() as x`;
          const [b] = await t`select txid_current() as x`;
          return [a.x, b.x];
        })
      );
      const r = await reservation;
      const [{ pid }] = await r`select pg_backend_pid() as pid`;
      const [{ pid: again }] = await r`select pg_backend_pid() as pid`;
      assert.equal(again, pid);
      r.release();
      const [a, b] = await tx;
      assert.equal(a, b, "both queries ran in the transaction");
    } finally {
      await pg.end({ timeout: 5 });
    }
  },
});

Deno.test({
  name: "[postgres] many transactions, reservations and queries at once each keep to their own",
  ignore,
  async fn() {
    const pg = postgres(TEST_POSTGRES_URL!, { max: 3, onnotice: () => {} });
    try {
      const failures: string[] = [];
      const reserved = async (i: number) => {
        const c = await pg.reserve();
        try {
          const [a] = await c`select pg_backend_pid() as pid`;
          await c`select pg_sleep(0.005)`;
          const [b] = await c`select pg_backend_pid() as pid`;
          assert.equal(b.pid, a.pid, "a reservation keeps its connection");
        } catch (e) {
          failures.push(`reserve ${i}: ${(e as Error).message}`);
        } finally {
          c.release();
        }
      };
      const transaction = async (i: number) => {
        try {
          await pg.begin(async (t) => {
            const [a] = await t`select pg_backend_pid() as pid, txid_current() as x`;
            await t`select pg_sleep(0.005)`;
            const [b] = await t`select pg_backend_pid() as pid, txid_current() as x`;
            assert.deepEqual(b, a, "every query of a transaction runs in that transaction");
          });
        } catch (e) {
          failures.push(`transaction ${i}: ${(e as Error).message}`);
        }
      };
      const work = [];
      for (let i = 0; i < 60; i++) {
        work.push(pg`select pg_sleep(0.002)`.then(() => {}), transaction(i), reserved(i));
      }
      await Promise.all(work);
      assert.deepEqual(failures, []);
    } finally {
      await pg.end({ timeout: 5 });
    }
  },
});
