import assert from "node:assert/strict";
import type { MetricsSample } from "../../lib/protocol/metrics.ts";
import type { HostCollector } from "../collectors/common.ts";
import { FakeClock } from "./clock.ts";
import { createSampler } from "./sampler.ts";

const ID = "c".repeat(64);

function counter(name = "n"): HostCollector & { runs: number } {
  const c = {
    name,
    runs: 0,
    collect() {
      c.runs++;
      return { [`${name}.runs`]: c.runs };
    },
  };
  return c;
}

Deno.test("createSampler() samples on a fixed grid from a monotonic base, without drift", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  // Each sample "takes" 30 ms: a loop that slept a full interval after each would drift 3% per tick.
  const slowish: HostCollector = { name: "s", collect: () => (clock.spend(30), { "s.v": 1 }) };
  const s = createSampler({
    host: [slowish],
    intervalMs: 1000,
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(9_900);
  const t0 = clock.wallBase;
  assert.deepEqual(samples.map((x) => x.t - t0), [
    0,
    1000,
    2000,
    3000,
    4000,
    5000,
    6000,
    7000,
    8000,
    9000,
  ]);
  assert.equal(s.stats().skippedTicks, 0);
  await s.stop();
});

Deno.test("createSampler() never overlaps: a slow sample skips the ticks it ran over, and counts them", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  let n = 0;
  const sometimesSlow: HostCollector = {
    name: "slow",
    collect() {
      if (++n === 2) clock.spend(2_500); // the second sample takes 2.5 intervals
      return { "slow.n": n };
    },
  };
  const s = createSampler({
    host: [sometimesSlow],
    intervalMs: 1000,
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(5_500);
  // Ticks at 0, 1000 (runs until 3500, so 2000 and 3000 are skipped), 4000, 5000.
  assert.deepEqual(samples.map((x) => x.t - clock.wallBase), [0, 1000, 4000, 5000]);
  assert.equal(s.stats().skippedTicks, 2);
  await s.stop();
});

Deno.test("createSampler() runs containers and slower collectors on their own intervals", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  const fast = counter("fast");
  const gpu = { ...counter("gpu"), intervalMs: 5000 };
  let containerRuns = 0;
  const s = createSampler({
    host: [fast, gpu],
    containers: {
      name: "containers",
      collect: () => Promise.resolve({ [ID]: { "ctr.pids": ++containerRuns } }),
    },
    intervalMs: 1000,
    containerIntervalMs: 10_000,
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(20_500);
  assert.equal(samples.length, 21);
  assert.deepEqual(
    samples.flatMap((x, i) => (x.containers ? [i] : [])),
    [0, 10, 20],
  );
  assert.deepEqual(samples.flatMap((x, i) => ("gpu.runs" in x.host ? [i] : [])), [
    0,
    5,
    10,
    15,
    20,
  ]);
  assert.equal(samples[10].containers?.[ID]["ctr.pids"], 2);
  await s.stop();
});

Deno.test("createSampler() lets a collector past the deadline deliver into the next sample, never run twice", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  const pending: ((v: Record<string, number>) => void)[] = [];
  const hung: HostCollector = {
    name: "hung",
    collect: () => new Promise((resolve) => pending.push(resolve)),
  };
  const s = createSampler({
    host: [hung, counter("ok")],
    intervalMs: 1000,
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(3_500);
  // Samples at 0, 1000, 2000, 3000 went out at their deadline with only "ok"; "hung" ran once.
  assert.equal(samples.length, 4);
  assert.equal(pending.length, 1);
  assert.ok(samples.every((x) => !("hung.v" in x.host)));
  assert.equal(s.stats().busySkips, 3);
  pending[0]({ "hung.v": 42 });
  // The tick at 4000 starts "hung" again, so its sample goes out at its deadline, 4800.
  await clock.advance(1_400);
  assert.equal(samples[4].host["hung.v"], 42, "the late result is in the next sample");
  assert.equal(s.stats().lateResults, 1);
  assert.equal(pending.length, 2, "started again once the first run had finished");
  pending[1]({});
  await s.stop();
});

Deno.test("createSampler() leaves out values the hub would refuse the whole batch for", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  const many: Record<string, number> = {};
  for (let i = 0; i < 600; i++) many[`x.v{i=${i}}`] = i;
  const bad: HostCollector = {
    name: "bad",
    collect: () => ({ "ok.v": 1, "Bad Key": 2, "nan.v": NaN, "inf.v": Infinity, ...many }),
  };
  const s = createSampler({
    host: [bad],
    containers: {
      name: "c",
      collect: () => Promise.resolve({ "not-an-id": { "ctr.pids": 1 }, [ID]: { "ctr.pids": 1 } }),
    },
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(10);
  const host = samples[0].host;
  assert.equal(Object.keys(host).length, 512);
  assert.equal(host["ok.v"], 1);
  assert.ok(!("Bad Key" in host) && !("nan.v" in host) && !("inf.v" in host));
  assert.deepEqual(Object.keys(samples[0].containers!), [ID]);
  assert.equal(s.stats().rejectedValues, 3 + 89 + 1);
  await s.stop();
});

Deno.test("createSampler() counts a failing collector and keeps sampling the others", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  const broken: HostCollector = {
    name: "broken",
    collect: () => {
      throw new Error("boom");
    },
  };
  const s = createSampler({
    host: [broken, counter("ok")],
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(2_500);
  assert.equal(samples.length, 3);
  assert.equal(s.stats().collectorErrors, 3);
  await s.stop();
  const after = samples.length;
  await clock.advance(5_000);
  assert.equal(samples.length, after, "stopped");
});

Deno.test("createSampler() keeps taking new series keys after thousands of others came and went (bridges of gone networks)", async () => {
  const clock = new FakeClock();
  const samples: MetricsSample[] = [];
  let n = 0;
  // Each sample brings 300 keys never seen before, as a host whose Docker networks churn would.
  const churning: HostCollector = {
    name: "net",
    collect: () =>
      Object.fromEntries(
        Array.from({ length: 300 }, () => [`net.rx_bps{iface=br-${(n++).toString(16)}}`, 1]),
      ),
  };
  const s = createSampler({
    host: [churning],
    intervalMs: 1000,
    clock,
    onSample: (x) => samples.push(x),
  });
  s.start();
  await clock.advance(99_500); // 100 samples, 30,000 distinct keys
  assert.equal(samples.length, 100);
  assert.equal(Object.keys(samples[99].host).length, 300);
  assert.equal(s.stats().rejectedValues, 0);
  await s.stop();
});
