/**
 * The meter's storage, egress and build facts: storage prorated exactly to the second and clipped
 * at the hour's edges, a GiB-month of 730 h, counter deltas through resets and restarts (never
 * negative), builds' whole minutes, and their line items.
 */
import assert from "node:assert/strict";
import { mulberry32 } from "../../tests/support/random.ts";
import {
  buildMinutes,
  counterDelta,
  FREE_PLAN,
  GIB,
  GIB_MONTH,
  HOUR_MS,
  lineItems,
  meterHour,
  priceOf,
  type StorageSegment,
} from "./meter.ts";

const H = Date.UTC(2026, 0, 1, 12);
const st = (p: Partial<StorageSegment>): StorageSegment => ({
  app_id: "a",
  kind: "volumes",
  bytes: 1,
  started_at: H,
  ended_at: null,
  ...p,
});

Deno.test("storage: byte-seconds clipped at the hour's edges, to the second", () => {
  const u = meterHour([], H, {
    storage: [
      // Began before the hour, ended 10 min in: 600 s of 5 GiB.
      st({ bytes: 5 * 2 ** 30, started_at: H - 5000, ended_at: H + 600_000 }),
      // Its successor from then on, still open: 3000 s of 7 GiB.
      st({ bytes: 7 * 2 ** 30, started_at: H + 600_000 }),
      // Another app's snapshots from 59:59.9 (floored to 59:59): 1 s.
      st({ app_id: "b", kind: "snapshots", bytes: 1000, started_at: H + 3_599_900 }),
      // Ended exactly at the hour's start: nothing.
      st({ app_id: "c", bytes: 9, started_at: H - HOUR_MS, ended_at: H }),
    ],
  });
  assert.deepEqual(u.map((x) => [x.app_id, x.storage_byte_s]), [
    ["a", 600n * 5n * GIB + 3000n * 7n * GIB],
    ["b", 1000n],
  ]);
  assert.equal(u[0].cpu_millicore_s, 0n);
});

Deno.test("storage: a GiB held for 730 h is billed one GiB-month, exactly, past 2^53", () => {
  assert.equal(GIB_MONTH, GIB * 730n * 3600n);
  // 1 GiB for one hour at 730 minor units per GiB-month: exactly 1.
  const [one] = lineItems(meterHour([], H, { storage: [st({ bytes: 2 ** 30 })] }), {
    ...FREE_PLAN,
    storage_gib_month: 730,
  });
  assert.equal(one.resource, "storage");
  assert.equal(one.quantity, 3600n * GIB);
  assert.equal(one.amount, 1);
  // 8 PiB for an hour: byte-seconds far past 2^53, priced exactly.
  const big = 8n * 2n ** 50n;
  const [b] = lineItems(meterHour([], H, { storage: [st({ bytes: Number(big) })] }), {
    ...FREE_PLAN,
    storage_gib_month: 1_000_000,
  });
  assert.equal(b.quantity, big * 3600n);
  assert.equal(BigInt(b.amount), (2n * big * 3600n * 1_000_000n + GIB_MONTH) / (2n * GIB_MONTH));
});

Deno.test("storage property: hourly byte-seconds of random tilings sum to the ground truth", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const segs: StorageSegment[] = [];
    let t = H + int(3_600_000);
    let truth = 0n;
    const end = H + 30 * HOUR_MS;
    while (t < end) {
      const len = 1 + int(4 * HOUR_MS);
      const stop = Math.min(end, t + len);
      const bytes = int(3) === 0 ? 0 : int(2 ** 40);
      // Whole seconds, as observations write them.
      const a = Math.floor(t / 1000) * 1000, b = Math.floor(stop / 1000) * 1000;
      if (bytes > 0) segs.push(st({ bytes, started_at: a, ended_at: b }));
      truth += BigInt(bytes) * BigInt((b - a) / 1000);
      t = stop;
    }
    let sum = 0n;
    for (let h = H - HOUR_MS; h < end + HOUR_MS; h += HOUR_MS) {
      for (const u of meterHour([], h, { storage: segs })) sum += u.storage_byte_s ?? 0n;
    }
    assert.equal(sum, truth, `seed ${seed}`);
  }
});

Deno.test("counterDelta(): baselines, resets and stale reads, never negative", () => {
  // First sight: the whole counter if the container is newer than metering, else a baseline.
  assert.equal(counterDelta(undefined, { t: 10, v: 500 }, true), 500);
  assert.equal(counterDelta(undefined, { t: 10, v: 500 }, false), 0);
  // Growth.
  assert.equal(counterDelta({ t: 10, v: 500 }, { t: 20, v: 800 }, false), 300);
  // Not a newer sample: nothing (already counted).
  assert.equal(counterDelta({ t: 20, v: 800 }, { t: 20, v: 900 }, false), 0);
  assert.equal(counterDelta({ t: 20, v: 800 }, { t: 15, v: 100 }, false), 0);
  // Reset (restart in place, new namespace): the bytes since the restart.
  assert.equal(counterDelta({ t: 20, v: 800 }, { t: 30, v: 120 }, false), 120);
  assert.equal(counterDelta({ t: 20, v: 800 }, { t: 30, v: 0 }, false), 0);
});

Deno.test("counterDelta() property: reads around resets add up to the bytes sent", () => {
  for (let seed = 1; seed <= 100; seed++) {
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    let counter = 0, t = 0, sent = 0, billed = 0;
    let prev: { t: number; v: number } | undefined;
    for (let step = 0; step < 200; step++) {
      const e = int(10);
      if (e === 0 && prev) {
        // A restart right after a read (the bytes before it were read): the counter starts again.
        counter = 0;
      } else if (e === 1 && prev) {
        // A stale or repeated read (the metrics store's newest sample has not moved).
        const d = counterDelta(prev, { t: prev.t, v: prev.v }, false);
        assert.equal(d, 0);
        continue;
      } else {
        const n = int(1e9);
        counter += n;
        sent += n;
      }
      t += 1 + int(60_000);
      const cur = { t, v: counter };
      const d = counterDelta(prev, cur, true);
      assert.ok(d >= 0);
      billed += d;
      prev = cur;
    }
    assert.equal(billed, sent, `seed ${seed}`);
  }
});

Deno.test("egress and builds: only the hour's own records, priced per GiB and per minute", () => {
  const u = meterHour([], H, {
    egress: [
      { app_id: "a", hour: H, bytes: 3 * 2 ** 30 },
      { app_id: "a", hour: H, bytes: 2 ** 29 },
      { app_id: "a", hour: H - HOUR_MS, bytes: 999 },
    ],
    builds: [
      { app_id: "b", hour: H, minutes: 2 },
      { app_id: "b", hour: H, minutes: 1 },
      { app_id: "b", hour: H + HOUR_MS, minutes: 50 },
    ],
  });
  assert.deepEqual(u.map((x) => [x.app_id, x.egress_bytes, x.build_minutes]), [
    ["a", 3n * GIB + GIB / 2n, undefined],
    ["b", undefined, 3n],
  ]);
  const items = lineItems(u, { ...FREE_PLAN, egress_gib: 9, build_minute: 7 });
  assert.deepEqual(items.map((i) => [i.app_id, i.resource, i.quantity, i.amount]), [
    // 3.5 GiB × 9 = 31.5 → 32 (half up).
    ["a", "egress", 3n * GIB + GIB / 2n, 32],
    ["b", "build", 3n, 21],
  ]);
  assert.equal(priceOf(3n * GIB + GIB / 2n, 9, GIB), 32n);
});

Deno.test("buildMinutes(): rounded up per build, at least 1 (the quota's count)", () => {
  assert.equal(buildMinutes(0, 0), 1);
  assert.equal(buildMinutes(0, 1), 1);
  assert.equal(buildMinutes(0, 60_000), 1);
  assert.equal(buildMinutes(0, 60_001), 2);
  assert.equal(buildMinutes(1000, 1000 + 10 * 60_000), 10);
});
