import assert from "node:assert/strict";
import { MetricsBatch } from "../../lib/protocol/metrics.ts";
import {
  CONTAINER_KEYS,
  HOST_COUNTER_KEYS,
  HOST_KEYS,
  hostHour,
  hostHourPoints,
  pointLabels,
} from "./host_hour.ts";
import { toOpenMetrics } from "./openmetrics.ts";

const hour = hostHour();

Deno.test("hostHour() is the same for a seed and differs for another", () => {
  assert.deepEqual(hostHour(), hour);
  const other = hostHour({ seed: 2 });
  assert.notDeepEqual(other.batches[0].samples[0].host, hour.batches[0].samples[0].host);
  // The same series; counters 10 or 11 s apart as the ticks fall, so sample counts differ a little.
  assert.equal(other.series, hour.series);
  assert.ok(Math.abs(other.samples - hour.samples) < 100);
});

Deno.test("hostHour() sends 360 batches of 10 one-second samples the protocol accepts", () => {
  assert.equal(hour.batches.length, 360);
  hour.batches.forEach((b, i) => {
    assert.equal(b.seq, i);
    assert.equal(b.samples.length, 10);
    assert.equal(b.epoch, hour.batches[0].epoch);
  });
  for (const b of [hour.batches[0], hour.batches[359]]) {
    assert.deepEqual(MetricsBatch.parse(b), b);
  }
});

Deno.test("hostHour() stamps whole-second ticks 0-65 ms late, mostly under 2 ms", () => {
  const lateness = hour.batches.flatMap((b) => b.samples).map((s, k) =>
    s.t - hour.start - k * 1000
  );
  assert.equal(lateness.length, 3600);
  assert.ok(lateness.every((l) => Number.isInteger(l) && l >= 0 && l <= 65));
  assert.ok(lateness.filter((l) => l <= 1).length > 0.8 * 3600);
  assert.ok(Math.max(...lateness) > 10, "a tail of late ticks");
});

Deno.test("hostHour() has 30 host series every second, counters every 10-11 s, 10 containers every 10 s", () => {
  const samples = hour.batches.flatMap((b) => b.samples);
  for (const s of samples) {
    for (const k of HOST_KEYS) assert.ok(k in s.host, `${k} at ${s.t}`);
  }
  const counterTimes = samples.filter((s) => HOST_COUNTER_KEYS[0] in s.host).map((s) => s.t);
  for (let i = 1; i < counterTimes.length; i++) {
    const gap = counterTimes[i] - counterTimes[i - 1];
    assert.ok(gap >= 10_000 && gap < 12_000, `counter gap ${gap}`);
  }
  samples.forEach((s, k) => {
    assert.equal(s.containers !== undefined, k % 10 === 0, `containers at tick ${k}`);
    if (s.containers) assert.equal(Object.keys(s.containers).length, 10);
  });
  // Three containers replaced: 13 ids, each with the 10 keys once it has a previous sample.
  assert.equal(hour.containerIds.length, 13);
  assert.equal(hour.series, HOST_KEYS.length + HOST_COUNTER_KEYS.length + 13 * 10);
  const last = samples[3590].containers!;
  for (const id in last) assert.deepEqual(Object.keys(last[id]).sort(), [...CONTAINER_KEYS].sort());
});

Deno.test("hostHour() values look like the agent's: 2-decimal percentages, whole bytes, monotone counters", () => {
  const points = [...hostHourPoints(hour.batches)];
  assert.equal(points.length, hour.samples);
  for (const p of points) {
    if (p.key.includes("_pct")) assert.equal(Math.round(p.v * 100) / 100, p.v, p.key);
    if (/bytes|_bps/.test(p.key)) assert.ok(Number.isInteger(p.v), p.key);
    if (/mem\.|ctr\.mem_used|fs\.used_bytes/.test(p.key) && p.key.endsWith("bytes")) {
      assert.equal(p.v % 4096, 0, `${p.key} in pages`);
    }
  }
  const series = new Map<string, number[]>();
  for (const p of points.filter((p) => p.key.endsWith("_total"))) {
    const k = `${p.container}/${p.key}`;
    series.set(k, [...(series.get(k) ?? []), p.v]);
  }
  for (const [k, vs] of series) {
    assert.ok(vs.every((v, i) => i === 0 || v >= vs[i - 1]), `${k} is monotone`);
  }
  assert.equal(new Set(points.filter((p) => p.key === "mem.total_bytes").map((p) => p.v)).size, 1);
});

Deno.test("toOpenMetrics() writes one family per key name, series in time order, and # EOF", () => {
  const small = hostHour({ seconds: 30, containers: 1, replacements: 0 });
  const text = toOpenMetrics("h1", hostHourPoints(small.batches));
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.at(-1), "# EOF");
  assert.equal(lines.filter((l) => !l.startsWith("#")).length, small.samples);
  assert.equal(lines.filter((l) => l.startsWith("# TYPE capstan_cpu_core_pct ")).length, 1);
  const { labels } = pointLabels("h1", { container: "", key: "fs.used_pct{mount=/}" });
  assert.deepEqual(labels, { host: "h1", mount: "/" });
  assert.ok(lines.includes(
    `capstan_host_uptime_s{host="h1"} ${small.batches[0].samples[0].host["host.uptime_s"]} ${
      (small.start / 1000 + 0.001 * (small.batches[0].samples[0].t - small.start)).toFixed(3)
    }`,
  ));
});
