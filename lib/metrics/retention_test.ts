import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createMetricStore } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { applyMetricsRetention } from "./retention.ts";
import { countRawSamples } from "./chunks.ts";

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
