import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createMetricStore } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { createMetricQuery } from "./query.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import type { DbHandle } from "../db/mod.ts";

const START = Date.UTC(2026, 0, 1, 0, 0, 0);
const MINUTE = 60_000;

/** `n` one-second samples of one host key from `from`, one batch. */
function series(seq: number, from: number, values: number[], key = "cpu.total_pct"): MetricsBatch {
  return {
    seq,
    dropped: 0,
    samples: values.map((v, i) => ({ t: from + i * 1000, host: { [key]: v } })),
  };
}

/** A store, rollups and queries on one database, with a clock the test moves. */
function setup(h: DbHandle, now: number) {
  const clock = manualClock(now);
  return {
    clock,
    store: createMetricStore(h, clock),
    rollups: createRollups(h.db, clock),
    query: createMetricQuery(h.db, clock),
  };
}

function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))];
}

dbTest(
  "query.stats() counts the raw tail not yet rolled up: a host that just joined has statistics at once",
  async (h) => {
    const { clock, store, rollups, query } = setup(h, START);
    // Two and a half minutes of samples from a new host; no rollup has run yet.
    const values = Array.from({ length: 150 }, (_, i) => 10 + (i % 30));
    await store.ingest("h", series(0, START, values));
    clock.set(START + 150_000);
    for (const range of ["1h", "24h", "7d"] as const) {
      const [s] = await query.stats("h", "", range);
      assert.ok(s, `${range}: statistics right after the host joined`);
      assert.equal(s.count, 150, range);
      assert.equal(s.max, 39, range);
      assert.equal(s.min, 10, range);
    }

    // The first minute is rolled (settled), the rest is still raw: each sample counted once.
    clock.set(START + 2 * MINUTE + 10_000);
    const r = await rollups.run();
    assert.equal(r.minutes, 1, "only the settled first minute is rolled");
    for (const range of ["1h", "7d"] as const) {
      const [s] = await query.stats("h", "", range);
      assert.equal(s.count, 150, `${range} after a partial rollup`);
      assert.ok(Math.abs(s.avg - values.reduce((a, b) => a + b) / 150) < 1e-9);
    }

    // A late sample for the rolled minute shows at once too, and still only once after the rollup.
    await store.ingest("h", series(1, START + 500, [1000]));
    assert.equal((await query.stats("h", "", "1h"))[0].max, 1000);
    assert.equal((await query.stats("h", "", "1h"))[0].count, 151);
    await rollups.run({ all: true });
    const [after] = await query.stats("h", "", "1h");
    assert.equal(after.count, 151);
    assert.equal(after.max, 1000);
  },
);

dbTest(
  "query.points() on minute and hour tiers includes the minutes not yet rolled up",
  async (h) => {
    const { store, query } = setup(h, START + 3 * MINUTE);
    await store.ingest("h", series(0, START, Array.from({ length: 180 }, () => 7)));
    const day = await query.points(
      "h",
      "",
      ["cpu.total_pct"],
      START - 23 * 3600_000,
      START + 3600_000,
    );
    assert.equal(day.tier, "1m");
    // 24 h in 2-minute buckets: three minutes of samples, none rolled up yet, are two points.
    assert.deepEqual(day.series[0].points, [[START, 7, 7, 7], [START + 2 * MINUTE, 7, 7, 7]]);
    const week = await query.points(
      "h",
      "",
      ["cpu.total_pct"],
      START - 6 * 86400_000,
      START + 86400_000,
    );
    assert.equal(week.tier, "1h");
    assert.deepEqual(week.series[0].points.map((p) => p.slice(1)), [[7, 7, 7]]);
  },
);

dbTest(
  "query.stats() never reports a quantile above max or below min (estimates are clamped)",
  async (h) => {
    const { store, rollups, query } = setup(h, START + 10 * MINUTE);
    // A CPU pinned at 100 % most of the time: the histogram bucket holding 100 has a
    // representative value above 100 (the review saw p95 = 100.24 % with max 100).
    const values: number[] = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? 99.5 : 100));
    values.push(...Array.from({ length: 60 }, () => 0.5));
    await store.ingest("h", series(0, START, values));
    await rollups.run({ all: true });
    for (const range of ["1h", "7d"] as const) {
      const [s] = await query.stats("h", "", range);
      assert.equal(s.max, 100);
      assert.equal(s.min, 0.5);
      for (const [name, v] of [["p50", s.p50], ["p95", s.p95], ["p99", s.p99]] as const) {
        assert.ok(v <= s.max && v >= s.min, `${range} ${name} ${v} outside [${s.min}, ${s.max}]`);
      }
      assert.equal(s.p99, 100);
    }
  },
);

dbTest(
  "query.stats() reads throughput percentiles from per-minute averages: bursty traffic has no p95 of 0 beside a non-zero average",
  async (h) => {
    const { clock, store, rollups, query } = setup(h, START + 30 * MINUTE);
    // What the review saw: an interface idle in most seconds, with a burst every 30 s (a health
    // check, a scrape). Per second, more than 95 % of samples are 0 although the average is 55 B/s.
    const key = "net.rx_bps{iface=eth0}";
    const perSecond = Array.from({ length: 20 * 60 }, (_, i) => (i % 30 === 0 ? 1650 : 0));
    assert.equal(exact(perSecond, 0.95), 0, "the exact p95 of the 1 s samples is 0");
    for (let m = 0; m < 20; m++) {
      await store.ingest(
        "h",
        series(m, START + m * MINUTE, perSecond.slice(m * 60, m * 60 + 60), key),
      );
    }
    // Some minutes rolled, the last ones still raw: both feed the per-minute averages.
    clock.set(START + 18 * MINUTE + 20_000);
    await rollups.run();
    for (const range of ["1h", "24h"] as const) {
      const [s] = await query.stats("h", "", range, [key]);
      assert.equal(s.avg, 55);
      assert.equal(s.max, 1650);
      assert.equal(s.p95, 55, `${range}: p95 of the one-minute averages`);
      assert.equal(s.percentiles_of, "1m_averages");
    }
    assert.equal((await query.stats("h", "", "7d", [key]))[0].percentiles_of, "1h_averages");
    await store.ingest("h", series(99, START, [5]));
    assert.equal(
      (await query.stats("h", "", "1h", ["cpu.total_pct"]))[0].percentiles_of,
      "samples",
    );
  },
);
