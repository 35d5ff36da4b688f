import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createMetricStore, type MetricStore } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { createMetricQuery } from "./query.ts";

const START = Date.UTC(2026, 0, 1, 0, 0, 0);
const MINUTE = 60_000;
const HOSTS = 6;
const MINUTES = 5;
const KEYS = ["cpu.total_pct", "mem.used_pct", "load.1"];

/** Five minutes of 1 s samples of three series for six hosts: 30 host-minutes to roll up. */
async function load(store: MetricStore) {
  for (let h = 0; h < HOSTS; h++) {
    for (let m = 0; m < MINUTES; m++) {
      await store.ingest(`host-${h}`, {
        seq: m,
        dropped: 0,
        samples: Array.from({ length: 60 }, (_, i) => ({
          t: START + m * MINUTE + i * 1000,
          host: Object.fromEntries(KEYS.map((k) => [k, h + i])),
        })),
      });
    }
  }
}

dbTest(
  "rollups.run() works in slices and yields to the event loop between them, not in one go",
  async (h) => {
    const clock = manualClock(START + MINUTES * MINUTE);
    const store = createMetricStore(h, clock);
    await load(store);
    // Each host-minute reads 180 raw rows and writes 3: a slice of 300 rows is two of them.
    const rollups = createRollups(h.db, clock, { sliceRows: 300, sliceMs: Infinity });
    // A timer set when the run starts fires while it is still running: the run hands the event loop
    // back (sockets, timers, other requests) instead of holding it until every bucket is done.
    let rolledWhenTimerFired: number | undefined;
    const minuteRows = async () =>
      Number(
        (await h.db.selectFrom("metric_1m").select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()).n,
      );
    const timer = new Promise<void>((resolve) =>
      setTimeout(async () => {
        rolledWhenTimerFired = await minuteRows();
        resolve();
      }, 0)
    );
    const r = await rollups.run({ all: true });
    await timer;
    assert.ok(
      rolledWhenTimerFired! < HOSTS * MINUTES * KEYS.length,
      `the timer ran only after the whole run (${rolledWhenTimerFired} minute rows already written)`,
    );
    assert.equal(r.minutes, HOSTS * MINUTES);
    assert.equal(r.hours, HOSTS);
    assert.equal(
      r.slices,
      Math.ceil((HOSTS * MINUTES) / 2) + 1,
      "two host-minutes a slice, then the hours",
    );
    assert.equal(await minuteRows(), HOSTS * MINUTES * KEYS.length);
  },
);

dbTest(
  "rollups.run(): batches committed while it yields are counted exactly once, also into rolled minutes",
  async (h) => {
    const clock = manualClock(START + MINUTES * MINUTE);
    const store = createMetricStore(h, clock);
    await load(store);
    let pauses = 0;
    const rollups = createRollups(h.db, clock, {
      sliceRows: 1,
      sliceMs: Infinity,
      pause: async () => {
        pauses++;
        // During the run: a late sample for host-0's first minute (rolled already by now) and a
        // new minute for the last host (not reached yet).
        if (pauses === 3) {
          await store.ingest("host-0", {
            seq: 100,
            dropped: 0,
            samples: [{ t: START + 500, host: { "cpu.total_pct": 1000 } }],
          });
          await store.ingest(`host-${HOSTS - 1}`, {
            seq: 100,
            dropped: 0,
            samples: [{ t: START + MINUTES * MINUTE - 500, host: { "cpu.total_pct": 2000 } }],
          });
        }
      },
    });
    const first = await rollups.run({ all: true });
    assert.ok(first.slices > 3);
    await rollups.run({ all: true });
    const query = createMetricQuery(h.db, clock);
    const [h0] = await query.stats("host-0", "", "1h", ["cpu.total_pct"]);
    assert.equal(h0.count, MINUTES * 60 + 1);
    assert.equal(h0.max, 1000);
    const [last] = await query.stats(`host-${HOSTS - 1}`, "", "1h", ["cpu.total_pct"]);
    assert.equal(last.count, MINUTES * 60 + 1);
    assert.equal(last.max, 2000);
    // Nothing is left marked, and the stored rollups alone (no raw tail) hold every sample.
    assert.equal(
      (await h.db.selectFrom("metric_dirty").selectAll().execute()).length,
      0,
    );
    const rolled = await h.db.selectFrom("metric_1h as r").innerJoin(
      "metric_series as s",
      "s.id",
      "r.series_id",
    )
      .select(["s.host_id", "r.count"]).where("s.key", "=", "cpu.total_pct").where(
        "s.host_id",
        "in",
        [
          "host-0",
          `host-${HOSTS - 1}`,
        ],
      ).execute();
    assert.deepEqual(rolled.map((r) => Number(r.count)), [MINUTES * 60 + 1, MINUTES * 60 + 1]);
  },
);
