import assert from "node:assert/strict";
import { sql } from "kysely";
import type { DbHandle } from "../db/mod.ts";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { installMetricsFault } from "../../tests/support/faults.ts";
import { createMetricStore } from "./store.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import { allRawRows, countRawSamples } from "./chunks.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

/** A batch of `n` 1 s samples from `from`, each with the given keys set to `v`. */
function batch(seq: number, from: number, keys: string[], v: number, n = 3): MetricsBatch {
  return {
    seq,
    dropped: 0,
    samples: Array.from({ length: n }, (_, i) => ({
      t: from + i * 1000,
      host: Object.fromEntries(keys.map((k) => [k, v])),
    })),
  };
}

/** Every raw point joined to its series: its host and key, and the value the sender stamped in it. */
async function pointsBySeries(h: DbHandle) {
  return await allRawRows(h.db);
}

dbTest(
  "metric store: a failed transaction leaves no series id in the cache, so no point lands in another host's series",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const fault = await installMetricsFault(h);
    // Host A (values 1) reports; host B (values 2) then starts 14 new series while the disk is full.
    await store.ingest("host-a", batch(0, NOW - 60_000, ["cpu.total_pct"], 1));
    const bKeys = Array.from({ length: 14 }, (_, i) => `disk.new_${i}`);
    await fault.on();
    await assert.rejects(
      store.ingest("host-b", batch(0, NOW - 50_000, bKeys, 2)),
      /database or disk is full|No space left/,
      "the storage error itself comes out, not a failed ROLLBACK",
    );
    await fault.off();
    // Space is back: A starts new series (on SQLite they would reuse the rolled-back ids), B retries.
    const aKeys = Array.from({ length: 14 }, (_, i) => `net.new_${i}`);
    await store.ingest("host-a", batch(1, NOW - 40_000, aKeys, 1));
    const retry = await store.ingest("host-b", batch(0, NOW - 50_000, bKeys, 2));
    assert.equal(retry.duplicate, false, "the failed batch was not committed, so its retry is new");
    await store.ingest("host-b", batch(1, NOW - 30_000, bKeys, 2));

    const rows = await pointsBySeries(h);
    assert.equal(rows.length, 3 + 14 * 3 + 14 * 3 * 2);
    for (const r of rows) {
      assert.ok(r.host_id, `point at ${r.t} has a series (${r.series_id})`);
      assert.equal(r.host_id, r.v === 1 ? "host-a" : "host-b", `point of ${r.key} is its sender's`);
    }
    const series = await h.db.selectFrom("metric_series").select(["host_id", "key"]).execute();
    assert.equal(series.filter((s) => s.host_id === "host-b").length, 14, "B's series exist");
  },
);

dbTest(
  "metric store: a new spool epoch starts again at seq 0 and is stored; a retry in the same epoch is a duplicate",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const e1 = "epochone1", e2 = "epochtwo2";
    for (let seq = 0; seq < 3; seq++) {
      const r = await store.ingest("h", {
        ...batch(seq, NOW - 90_000 + seq * 3000, ["x.v"], seq),
        epoch: e1,
      });
      assert.equal(r.epochChanged, undefined);
    }
    // The spool directory was removed: the agent starts a new epoch at seq 0.
    clock.set(NOW + 1000);
    const fresh = await store.ingest("h", { ...batch(0, NOW - 10_000, ["x.v"], 9), epoch: e2 });
    assert.equal(fresh.duplicate, false);
    assert.equal(fresh.points, 3);
    assert.deepEqual(fresh.epochChanged, { from: e1, to: e2 });
    assert.equal(
      (await store.ingest("h", { ...batch(0, NOW - 10_000, ["x.v"], 9), epoch: e2 })).duplicate,
      true,
    );
    // A late batch of the old spool is stored but does not switch the host back.
    const late = await store.ingest("h", { ...batch(3, NOW - 80_000, ["x.v"], 3), epoch: e1 });
    assert.equal(late.duplicate, false);
    assert.equal(late.epochChanged, undefined);
    // A batch built in memory (spool unwritable) has an epoch of its own that is not a new spool.
    const mem = await store.ingest("h", {
      ...batch(0, NOW - 5000, ["x.v"], 10, 1),
      epoch: "memoryepoch",
      memory: true,
    });
    assert.equal(mem.epochChanged, undefined);
    const row = await h.db.selectFrom("metric_agents").selectAll().where("host_id", "=", "h")
      .executeTakeFirstOrThrow();
    assert.equal(row.epoch, e2);
    assert.equal(row.prev_epoch, e1);
    assert.equal(Number(row.epoch_since), NOW + 1000);
    assert.equal(await store.lastSeq("h", e1), 3);
    assert.equal(await store.lastSeq("h", e2), 0);
    assert.equal(await countRawSamples(h.db), 3 * 3 + 3 + 3 + 1);
  },
);

dbTest(
  "metric store: samples > 5 min ahead or before the retention window are refused and counted; skew is measured",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const r = await store.ingest("h", {
      seq: 0,
      dropped: 0,
      samples: [
        { t: NOW + 24 * 3600_000, host: { "x.v": 1 } }, // a day ahead
        { t: NOW + 6 * MIN, host: { "x.v": 1 } },
        { t: NOW + 4 * MIN, host: { "x.v": 2 } }, // ahead, but within 5 min: kept
        { t: NOW - 25 * 3600_000, host: { "x.v": 3 } }, // before a 24 h window
        { t: 0, host: { "x.v": 4 } }, // 1970
        { t: NOW - 1000, host: { "x.v": 5 } },
      ],
    }, { oldestMs: NOW - 24 * 3600_000, agentTime: NOW + 4 * MIN + 300 });
    assert.deepEqual(r.refused, { future: 2, old: 2 });
    assert.equal(r.points, 2);
    assert.deepEqual(r.samples.map((s) => s.host["x.v"]), [2, 5], "only stored samples go on");
    assert.equal(r.skewMs, 4 * MIN + 300);
    const row = await h.db.selectFrom("metric_agents").selectAll().where("host_id", "=", "h")
      .executeTakeFirstOrThrow();
    assert.equal(Number(row.refused_future), 2);
    assert.equal(Number(row.refused_old), 2);
    assert.equal(Number(row.skew_ms), 4 * MIN + 300);
    const times = (await allRawRows(h.db)).map((x) => x.t).sort((a, b) => a - b);
    assert.deepEqual(times, [NOW - 1000, NOW + 4 * MIN]);
  },
);

dbTest(
  "metric store: latest is the newest sample not in the future; a clock 4 min fast then corrected does not stick",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const latest = async () =>
      await h.db.selectFrom("metric_latest").select(["t", "v"]).executeTakeFirstOrThrow();
    // The agent's clock runs 4 minutes fast: its samples are dated ahead of the hub.
    await store.ingest("h", batch(0, NOW + 4 * MIN, ["cpu.total_pct"], 99));
    // Corrected 10 s later: the next batch is dated right, and older than what was stored.
    clock.set(NOW + 10_000);
    await store.ingest("h", batch(1, NOW + 5000, ["cpu.total_pct"], 7));
    assert.deepEqual(
      { t: Number((await latest()).t), v: (await latest()).v },
      { t: NOW + 7000, v: 7 },
    );
    // Within a batch, the newest sample not ahead of the hub's clock is the latest.
    clock.set(NOW + 20_000);
    await store.ingest("h", {
      seq: 2,
      dropped: 0,
      samples: [
        { t: NOW + 19_000, host: { "cpu.total_pct": 1 } },
        { t: NOW + 20_000, host: { "cpu.total_pct": 2 } },
        { t: NOW + 22_000, host: { "cpu.total_pct": 3 } },
      ],
    });
    assert.equal((await latest()).v, 2);
  },
);

dbTest(
  "metric store: a host at its series limit stores its existing series, drops new ones and counts them once, and takes new ones again when old ones are no longer live",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock, { maxSeriesPerHost: 3 });
    const window = { oldestMs: NOW - 60 * MIN };
    /** A batch of 1 s samples of the host's cpu and the given containers' keys. */
    const report = (seq: number, from: number, containers: Record<string, string[]>, n = 2) =>
      store.ingest("ci", {
        seq,
        dropped: 0,
        samples: Array.from({ length: n }, (_, i) => ({
          t: from + i * 1000,
          host: { "cpu.total_pct": seq },
          containers: Object.fromEntries(
            Object.entries(containers).map((
              [id, keys],
            ) => [id, Object.fromEntries(keys.map((k) => [k, seq]))]),
          ),
        })),
      }, window);

    const first = await report(0, NOW - 50_000, { a: ["cpu_pct", "mem_bytes"] });
    assert.deepEqual(first.capped, { series: 0, samples: 0 });
    // Container b starts: 2 new series, no room. The existing three keep being stored.
    const second = await report(1, NOW - 40_000, {
      a: ["cpu_pct", "mem_bytes"],
      b: ["cpu_pct", "mem_bytes"],
    });
    assert.deepEqual(second.capped, { series: 2, samples: 4 });
    assert.equal(second.points, 6);
    assert.deepEqual(second.samples[0].containers, { a: { cpu_pct: 1, mem_bytes: 1 }, b: {} });
    const third = await report(2, NOW - 30_000, { a: ["cpu_pct"], b: ["cpu_pct", "mem_bytes"] });
    assert.deepEqual(third.capped, { series: 0, samples: 4 }, "b's series were counted already");
    assert.equal(third.points, 4);

    const series = await h.db.selectFrom("metric_series").select(["container_id", "key"])
      .where("host_id", "=", "ci").orderBy("container_id").orderBy("key").execute();
    assert.deepEqual(series.map((s) => `${s.container_id}/${s.key}`), [
      "/cpu.total_pct",
      "a/cpu_pct",
      "a/mem_bytes",
    ]);
    const stored = await allRawRows(h.db, "ci");
    assert.equal(stored.length, 6 + 6 + 4);
    assert.ok(stored.every((r) => r.container_id !== "b"));
    const agent = await h.db.selectFrom("metric_agents").selectAll().where("host_id", "=", "ci")
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [Number(agent.capped_series), Number(agent.capped_samples), Number(agent.capped_at)],
      [2, 8, NOW],
    );
    // Another host has a limit of its own.
    const other = await store.ingest("other", batch(0, NOW - 10_000, ["a", "b", "c"], 1), window);
    assert.deepEqual(other.capped, { series: 0, samples: 0 });

    // An hour on, a has stopped and no series has a sample in the raw window (none is live); the
    // cached count is over a minute old, so it is read again, and b's series fit.
    clock.set(NOW + 61 * MIN);
    const later = { oldestMs: clock.now() - 60 * MIN };
    const admitted = await store.ingest("ci", {
      seq: 3,
      dropped: 0,
      samples: [{
        t: clock.now() - 1000,
        host: { "cpu.total_pct": 3 },
        containers: { b: { cpu_pct: 3, mem_bytes: 3 } },
      }],
    }, later);
    assert.deepEqual(admitted.capped, { series: 0, samples: 0 });
    assert.equal(admitted.points, 3);
    const b = (await allRawRows(h.db, "ci")).filter((r) => r.container_id === "b");
    assert.deepEqual(b.map((r) => [r.key, r.v]), [["cpu_pct", 3], ["mem_bytes", 3]]);
  },
);

/** Makes inserts into metric_head of `hostId` fail that statement alone (the transaction goes on). */
async function refuseHeadOf(h: DbHandle, hostId: string) {
  if (h.dialect === "sqlite") {
    await sql.raw(`create trigger refuse_head before insert on metric_head
      when new.host_id = '${hostId}' begin select raise(abort, 'refused by test'); end`)
      .execute(h.db);
  } else {
    await sql.raw(`create function refuse_head_f() returns trigger language plpgsql as $$
      begin
        if new.host_id = '${hostId}' then raise exception 'refused by test'; end if;
        return new;
      end $$`).execute(h.db);
    await sql`create trigger refuse_head before insert on metric_head
      for each row execute function refuse_head_f()`.execute(h.db);
  }
  return () =>
    sql`drop trigger refuse_head${sql.raw(h.dialect === "sqlite" ? "" : " on metric_head")}`
      .execute(h.db);
}

dbTest(
  "metric store: reports arriving together are committed together, and one that fails fails alone",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const allow = await refuseHeadOf(h, "host-bad");
    // Sent in one turn: on SQLite they share one transaction (group commit), each in a savepoint.
    const sent = await Promise.allSettled([
      store.ingest("host-a", batch(0, NOW - 60_000, ["cpu.total_pct"], 1)),
      store.ingest("host-bad", batch(0, NOW - 60_000, ["cpu.total_pct"], 2)),
      store.ingest("host-c", batch(0, NOW - 60_000, ["cpu.total_pct", "mem.used_pct"], 3)),
    ]);
    assert.deepEqual(sent.map((s) => s.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.match(String((sent[1] as PromiseRejectedResult).reason), /refused by test/);
    assert.equal(await store.lastSeq("host-a"), 0);
    assert.equal(await store.lastSeq("host-bad"), -1, "nothing of the failed report is kept");
    assert.equal(await store.lastSeq("host-c"), 0);
    const series = await h.db.selectFrom("metric_series").select("host_id").execute();
    assert.deepEqual(series.map((s) => s.host_id).sort(), ["host-a", "host-c", "host-c"]);

    await allow();
    const retry = await store.ingest("host-bad", batch(0, NOW - 60_000, ["cpu.total_pct"], 2));
    assert.equal(
      retry.duplicate,
      false,
      "the failed report was not committed, so its retry is new",
    );
    const rows = await pointsBySeries(h);
    assert.equal(rows.length, 3 + 3 + 6);
    const owner = { 1: "host-a", 2: "host-bad", 3: "host-c" } as Record<number, string>;
    for (const r of rows) assert.equal(r.host_id, owner[r.v], `point of value ${r.v}`);
  },
);

dbTest(
  "metric store: two reports of one host arriving together both store, the second seeing the first's new series",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const [first, second, again] = await Promise.all([
      store.ingest("host-a", batch(0, NOW - 60_000, ["cpu.total_pct"], 1)),
      store.ingest("host-a", batch(1, NOW - 50_000, ["cpu.total_pct", "mem.used_pct"], 1)),
      store.ingest("host-a", batch(1, NOW - 50_000, ["cpu.total_pct", "mem.used_pct"], 1)),
    ]);
    assert.equal(first.duplicate, false);
    // One of the two sends of seq 1 is stored, the other is its duplicate (on PostgreSQL, where
    // each is a transaction of its own, either may commit first).
    assert.deepEqual([second.duplicate, again.duplicate].sort(), [false, true]);
    const series = await h.db.selectFrom("metric_series").select("key").execute();
    assert.deepEqual(series.map((s) => s.key).sort(), ["cpu.total_pct", "mem.used_pct"]);
    assert.equal(await countRawSamples(h.db), 3 + 6);
  },
);

dbTest(
  "metric store: a report that takes the transaction with it fails its whole group, and the group's retries store",
  async (h) => {
    const clock = manualClock(NOW);
    const store = createMetricStore(h, clock);
    const fault = await installMetricsFault(h);
    await store.ingest("host-a", batch(0, NOW - 120_000, ["cpu.total_pct"], 1));
    await fault.on();
    const sent = await Promise.allSettled([
      store.ingest("host-a", batch(1, NOW - 60_000, ["cpu.total_pct", "new.a"], 1)),
      store.ingest("host-b", batch(0, NOW - 60_000, ["cpu.total_pct"], 2)),
    ]);
    assert.deepEqual(sent.map((s) => s.status), ["rejected", "rejected"]);
    await fault.off();
    const retried = await Promise.all([
      store.ingest("host-a", batch(1, NOW - 60_000, ["cpu.total_pct", "new.a"], 1)),
      store.ingest("host-b", batch(0, NOW - 60_000, ["cpu.total_pct"], 2)),
    ]);
    assert.deepEqual(retried.map((r) => r.duplicate), [false, false]);
    const rows = await pointsBySeries(h);
    assert.equal(rows.length, 3 + 6 + 3);
    for (const r of rows) assert.equal(r.host_id, r.v === 1 ? "host-a" : "host-b");
  },
);
