import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createMetricStore } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { createMetricQuery } from "./query.ts";
import { RELATIVE_ACCURACY } from "./histogram.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import { countRawSamples } from "./chunks.ts";

const START = Date.UTC(2026, 0, 1, 0, 0, 0);
const CTR = "a".repeat(64);

function batch(seq: number, from: number, n: number, value: (t: number) => number): MetricsBatch {
  return {
    seq,
    dropped: 0,
    samples: Array.from({ length: n }, (_, i) => {
      const t = from + i * 1000;
      return {
        t,
        host: { "cpu.total_pct": value(t), "fs.used_pct{mount=/}": 50 },
        containers: i % 10 === 0 ? { [CTR]: { "ctr.cpu_pct": 1 } } : undefined,
      };
    }),
  };
}

dbTest("metric store: samples stamped far in the future are dropped", async (h) => {
  const store = createMetricStore(h, manualClock(START));
  const r = await store.ingest("h", {
    seq: 0,
    dropped: 0,
    samples: [{ t: START + 3600_000, host: { "x.v": 1 } }, { t: START, host: { "x.v": 1 } }],
  });
  assert.equal(r.points, 1);
});

dbTest("metric store: a batch commits once; retries with the same seq are ignored", async (h) => {
  const clock = manualClock(START + 3600_000);
  const store = createMetricStore(h, clock);
  const b = batch(0, START, 10, (t) => t % 7);
  const ingest = async (host: string) => {
    const { duplicate, points } = await store.ingest(host, b);
    return { duplicate, points };
  };
  assert.deepEqual(await ingest("host-1"), { duplicate: false, points: 21 });
  assert.deepEqual(await ingest("host-1"), { duplicate: true, points: 0 });
  assert.deepEqual(await ingest("host-2"), { duplicate: false, points: 21 }, "seq is per host");
  assert.equal(await countRawSamples(h.db), 42);
  assert.equal(await store.lastSeq("host-1"), 0);
  assert.equal(await store.lastSeq("nobody"), -1);
});

dbTest(
  "rollups: p95 over a day from minute and hour rollups is within the stated bound of the exact value",
  async (h) => {
    const clock = manualClock(START + 2 * 3600_000);
    const store = createMetricStore(h, clock);
    const rollups = createRollups(h.db, clock);
    const query = createMetricQuery(h.db, clock);
    // Two hours of 1 s samples with a daily-ish shape and spikes; exact p95 computed alongside.
    const values: number[] = [];
    const value = (t: number) => {
      const s = (t - START) / 1000;
      const v = 20 + 15 * Math.sin(s / 600) + (s % 97 === 0 ? 60 : 0) + ((s * 7919) % 13);
      return Math.round(v * 100) / 100;
    };
    for (let seq = 0; seq < 720; seq++) {
      const b = batch(seq, START + seq * 10_000, 10, value);
      for (const s of b.samples) values.push(s.host["cpu.total_pct"]);
      await store.ingest("host-1", b);
    }
    clock.set(START + 2 * 3600_000 + 120_000);
    const r = await rollups.run();
    assert.equal(r.minutes, 120);
    assert.equal(r.hours, 2);
    const sorted = [...values].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.floor(q * (sorted.length - 1))];
    for (const range of ["12h", "7d"] as const) {
      const stats = await query.stats("host-1", "", range, ["cpu.total_pct"]);
      const cpu = stats[0];
      assert.equal(cpu.count, values.length);
      assert.equal(cpu.max, Math.max(...values));
      assert.equal(cpu.min, Math.min(...values));
      assert.ok(Math.abs(cpu.avg - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9);
      for (const [q, got] of [[0.5, cpu.p50], [0.95, cpu.p95], [0.99, cpu.p99]] as const) {
        const err = Math.abs(got - exact(q)) / exact(q);
        assert.ok(
          err <= RELATIVE_ACCURACY,
          `${range} q${q}: ${got} vs exact ${exact(q)} (error ${err})`,
        );
      }
    }
  },
);

dbTest(
  "rollups: late samples for a rolled minute are counted exactly once after the next run",
  async (h) => {
    const clock = manualClock(START);
    const store = createMetricStore(h, clock);
    const rollups = createRollups(h.db, clock);
    const query = createMetricQuery(h.db, clock);
    await store.ingest("h", {
      seq: 0,
      dropped: 0,
      samples: [{ t: START + 1000, host: { "x.v": 1 } }],
    });
    clock.set(START + 5 * 60_000);
    await rollups.run();
    await store.ingest("h", {
      seq: 1,
      dropped: 0,
      samples: [{ t: START + 2000, host: { "x.v": 3 } }],
    });
    await store.ingest("h", {
      seq: 1,
      dropped: 0,
      samples: [{ t: START + 2000, host: { "x.v": 3 } }],
    });
    await rollups.run();
    const [s] = await query.stats("h", "", "1h");
    assert.equal(s.count, 2);
    assert.equal(s.avg, 2);
  },
);

dbTest(
  "query.points() picks the tier by range and returns at most 1000 points per series",
  async (h) => {
    const clock = manualClock(START + 3600_000);
    const store = createMetricStore(h, clock);
    const rollups = createRollups(h.db, clock);
    const query = createMetricQuery(h.db, clock);
    for (let seq = 0; seq < 360; seq++) {
      await store.ingest(
        "h",
        batch(seq, START + seq * 10_000, 10, () => 5),
      );
    }
    clock.set(START + 3600_000 + 120_000);
    await rollups.run();
    const raw = await query.points("h", "", ["cpu.total_pct"], START, START + 3600_000);
    assert.equal(raw.tier, "raw");
    assert.equal(raw.series[0].points.length, 900, "one hour of 1 s samples in 4 s buckets");
    const minutes = await query.points("h", "", ["cpu.total_pct"], START, START + 24 * 3600_000);
    assert.equal(minutes.tier, "1m");
    assert.equal(
      minutes.series[0].points.length,
      30,
      "24 h in 2-minute buckets: one hour of data is 30 points",
    );
    assert.deepEqual(minutes.series[0].points[0].slice(1), [5, 5, 5]);
    const ctr = await query.points("h", CTR, ["ctr.cpu_pct"], START, START + 3600_000);
    assert.equal(ctr.series[0].points.length, 360);
    assert.deepEqual(await query.keys("h"), ["cpu.total_pct", "fs.used_pct{mount=/}"]);
  },
);

dbTest(
  "query.latest() returns the newest value of each series, also when batches arrive out of order",
  async (h) => {
    const clock = manualClock(START + 60_000);
    const store = createMetricStore(h, clock);
    const query = createMetricQuery(h.db, clock);
    await store.ingest("h", {
      seq: 1,
      dropped: 0,
      samples: [{ t: START + 20_000, host: { "x.v": 2 } }],
    });
    await store.ingest("h", {
      seq: 0,
      dropped: 0,
      samples: [{ t: START + 10_000, host: { "x.v": 1 } }],
    });
    const latest = await query.latest(["h"], START);
    assert.deepEqual(latest.map((l) => [l.key, l.t, l.v]), [["x.v", START + 20_000, 2]]);
    assert.deepEqual(await query.latest(["h"], START + 30_000), []);
  },
);
