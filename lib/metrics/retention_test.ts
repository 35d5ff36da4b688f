import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest, openTestDb, TEST_POSTGRES_URL } from "../../tests/support/db.ts";
import { until } from "../../tests/support/process.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createMetricStore, hostLockKey, SERIES_LOCK } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { applyMetricsRetention } from "./retention.ts";
import { allRawRows, countRawSamples, hexOf, toRows } from "./chunks.ts";

const START = Date.UTC(2026, 0, 1, 0, 0, 0);
const HOUR = 3_600_000;

dbTest(
  "applyMetricsRetention() deletes in small steps and yields to the event loop between slices",
  async (h) => {
    const clock = manualClock(START + 2 * HOUR);
    const store = createMetricStore(h, clock);
    // Four hosts, two series each, two hours of samples every 10 s.
    for (let host = 0; host < 4; host++) {
      for (let hour = 0; hour < 2; hour++) {
        await store.ingest(`host-${host}`, {
          seq: hour,
          dropped: 0,
          samples: Array.from({ length: 360 }, (_, i) => ({
            t: START + hour * HOUR + i * 10_000,
            host: { "cpu.total_pct": i % 100, "load.1": 1 },
          })),
        });
      }
    }
    const rollups = createRollups(h.db, clock);
    await rollups.run({ all: true });
    clock.set(START + 25 * HOUR); // raw rows older than START + 1 h are past 24 h
    const raw = async () =>
      Number(
        await countRawSamples(h.db),
      );
    assert.equal(await raw(), 4 * 2 * 720);
    let rawWhenTimerFired: number | undefined;
    const timer = new Promise<void>((resolve) =>
      setTimeout(async () => {
        rawWhenTimerFired = await raw();
        resolve();
      }, 0)
    );
    const out = await applyMetricsRetention(
      h.db,
      clock,
      rollups,
      { rawHours: 24, minuteDays: 30, hourDays: 365 },
      { sliceRows: 500, sliceMs: Infinity },
    );
    await timer;
    assert.equal(out.raw, 4 * 2 * 360, "the first hour of every series");
    assert.equal(await raw(), 4 * 2 * 360);
    assert.ok(
      rawWhenTimerFired! > 4 * 2 * 360,
      `a timer set at the start ran only once every delete was done (raw rows then: ${rawWhenTimerFired})`,
    );
    // Rollups are kept (their retention is longer) and still hold both hours.
    const hours = await h.db.selectFrom("metric_1h").select("count").execute();
    assert.equal(hours.reduce((a, r) => a + Number(r.count), 0), 4 * 2 * 720);
  },
);

/** Series ids that rows of a table name but `metric_series` no longer has (must be none). */
async function orphans(h: { db: import("../db/mod.ts").Db }, table: string) {
  const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}
    where series_id not in (select id from metric_series)`.execute(h.db);
  return Number(rows[0].n);
}

dbTest(
  "applyMetricsRetention() deletes the series of removed containers once their data is gone, and a later batch of one of their keys makes a fresh series (also through another process's stale cache)",
  async (h) => {
    const clock = manualClock(START);
    // Two hub processes: `replica` ingests the CI host's churn and caches its series ids;
    // retention runs in `hub`, whose cache it can clear (forget), so `replica` only learns of the
    // deletion from the host's series generation.
    const hub = createMetricStore(h, clock);
    const replica = createMetricStore(h, clock);
    // An hour of a CI host: the host's own series and a long-lived "web" container throughout, and
    // 30 short-lived job containers, each up for 10 minutes, 3 series each; a batch a minute of
    // 10 s samples.
    const jobs = Array.from({ length: 30 }, (_, i) => `job${String(i).padStart(2, "0")}`);
    for (let minute = 0; minute < 60; minute++) {
      clock.set(START + (minute + 1) * 60_000);
      await replica.ingest("ci", {
        seq: minute,
        dropped: 0,
        samples: Array.from({ length: 6 }, (_, i) => {
          const t = START + minute * 60_000 + i * 10_000;
          const containers: Record<string, Record<string, number>> = {
            web: { cpu_pct: 1, mem_bytes: 4096 },
          };
          jobs.forEach((id, j) => {
            if (minute >= j * 2 && minute < j * 2 + 10) {
              containers[id] = { cpu_pct: j, mem_bytes: 8192 * j, net_rx_bps: 100 };
            }
          });
          return { t, host: { "cpu.total_pct": 5 }, containers };
        }),
      });
    }
    const before = await h.db.selectFrom("metric_series").select(["id", "container_id", "key"])
      .execute();
    assert.equal(before.length, 1 + 2 + 30 * 3);
    const rollups = createRollups(h.db, clock);
    await rollups.run({ all: true });

    // Two days later the host and "web" still report; the jobs are long gone and everything of
    // them has expired.
    clock.set(START + 48 * HOUR);
    await replica.ingest("ci", {
      seq: 60,
      dropped: 0,
      samples: [{
        t: clock.now() - 5_000,
        host: { "cpu.total_pct": 7 },
        containers: { web: { cpu_pct: 2, mem_bytes: 4096 } },
      }],
    });
    // Raw samples are kept an hour, rollups a day; retention runs in `hub`.
    const keep = { rawHours: 1, minuteDays: 1, hourDays: 1 };
    const retain = () =>
      applyMetricsRetention(
        h.db,
        clock,
        rollups,
        keep,
        { sliceRows: 50 },
        (ids) => hub.forget(ids),
      );
    const out = await retain();
    assert.equal(out.series, 30 * 3, "every series of the job containers");
    const left = await h.db.selectFrom("metric_series").select(["container_id", "key"])
      .orderBy("container_id").orderBy("key").execute();
    assert.deepEqual(left.map((s) => `${s.container_id}/${s.key}`), [
      "/cpu.total_pct",
      "web/cpu_pct",
      "web/mem_bytes",
    ]);
    for (const table of ["metric_chunks", "metric_1m", "metric_1h", "metric_latest"]) {
      assert.equal(await orphans(h, table), 0, `no row of ${table} names a deleted series`);
    }
    const again = await retain();
    assert.equal(again.series, 0, "the live series stay");

    // job00 is started again: through the replica's stale cache and through the hub.
    const oldIds = new Set(before.map((s) => Number(s.id)));
    for (const [store, seq, key] of [[replica, 61, "cpu_pct"], [hub, 62, "mem_bytes"]] as const) {
      const r = await store.ingest("ci", {
        seq,
        dropped: 0,
        samples: [{ t: clock.now() - 1000, host: {}, containers: { job00: { [key]: 42 } } }],
      });
      assert.equal(r.points, 1);
    }
    const rows = (await allRawRows(h.db, "ci")).filter((r) => r.container_id === "job00");
    assert.deepEqual(rows.map((r) => [r.key, r.v]), [["cpu_pct", 42], ["mem_bytes", 42]]);
    for (const r of rows) assert.ok(!oldIds.has(r.series_id), `${r.key} has a fresh series id`);
    assert.equal(await orphans(h, "metric_chunks"), 0, "nothing was written to a deleted series");
    assert.equal(await orphans(h, "metric_latest"), 0);
    // The web container's series kept their ids and took the next sample.
    await replica.ingest("ci", {
      seq: 63,
      dropped: 0,
      samples: [{ t: clock.now(), host: {}, containers: { web: { cpu_pct: 3 } } }],
    });
    const web = (await allRawRows(h.db, "ci")).filter((r) =>
      r.container_id === "web" && r.key === "cpu_pct"
    );
    assert.ok(oldIds.has(web[0].series_id));
    assert.deepEqual(web.slice(-2).map((r) => r.v), [2, 3]);
  },
);

Deno.test({
  name:
    "[postgres] applyMetricsRetention() waits for a batch of the host in flight and keeps a series that batch writes to",
  ignore: !TEST_POSTGRES_URL && Deno.env.get("CI") !== "true",
  async fn() {
    const h = await openTestDb("postgres");
    try {
      const clock = manualClock(START);
      const store = createMetricStore(h, clock);
      await store.ingest("ci", {
        seq: 0,
        dropped: 0,
        samples: [{ t: START, host: {}, containers: { job: { cpu_pct: 1 } } }],
      });
      const [series] = await h.db.selectFrom("metric_series").select("id").execute();
      const rollups = createRollups(h.db, clock);
      await rollups.run({ all: true });
      clock.set(START + 48 * HOUR);
      // Another replica's batch through its cached id: under the host's lock, not committed yet.
      let commit!: () => void;
      const committed = new Promise<void>((r) => commit = r);
      let locked!: () => void;
      const holding = new Promise<void>((r) => locked = r);
      const inFlight = h.pg!.begin(async (sql) => {
        await sql`select pg_advisory_xact_lock_shared(${SERIES_LOCK}, ${hostLockKey("ci")}::int)`;
        const [row] = toRows(Number(series.id), [[{ t: clock.now() - 1000, v: 2 }]]);
        await sql`insert into metric_chunks (series_id, t0, t1, n, data)
          values (${row.series_id}, ${row.t0}, ${row.t1}, ${row.n}, decode(${
          hexOf(row.data)
        }, 'hex'))`;
        locked();
        await committed;
      });
      await holding;
      const retention = applyMetricsRetention(h.db, clock, rollups, {
        rawHours: 1,
        minuteDays: 1,
        hourDays: 1,
      });
      await until("retention waits for the host's lock", async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks
          where locktype = 'advisory' and not granted`.execute(h.db);
        return rows[0].n > 0;
      });
      commit();
      await inFlight;
      const out = await retention;
      assert.equal(out.series, 0, "the series got a sample before the deletion could commit");
      assert.equal((await allRawRows(h.db, "ci")).length, 1);
      assert.equal(await orphans(h, "metric_chunks"), 0);
    } finally {
      await h.close();
    }
  },
});
