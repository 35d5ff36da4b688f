import assert from "node:assert/strict";
import {
  blockIoTotals,
  cpuFraction,
  cpuLimitCores,
  type DockerStats,
  memoryUsed,
  networkTotals,
  parseStatsTime,
  summarizeStats,
} from "./stats.ts";
import v1Raw from "./testdata/stats_v1_capture.json" with { type: "json" };
import v2Raw from "./testdata/stats_v2_handmade.json" with { type: "json" };

// Captured on this machine (Docker 20.10, cgroup v1, 2 CPUs): a busy loop under --cpus 0.5 and
// -m 64m with 8 MiB of page cache, and an idle unlimited container.
const v1 = v1Raw as unknown as {
  hostConfig: { NanoCpus: number; CpuQuota: number; CpuPeriod: number; Memory: number };
  stream: DockerStats[];
  oneshot: DockerStats;
  unlimitedOneshot: DockerStats;
};
const v2 = v2Raw as unknown as {
  hostConfig: { NanoCpus: number; CpuQuota: number; CpuPeriod: number };
  samples: DockerStats[];
};

function near(actual: number | null, expected: number, tol: number, what: string): void {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} not within ${tol} of ${expected}`,
  );
}

Deno.test("summarizeStats() behaviour: streamed v1 sample uses its own precpu_stats", () => {
  const s = summarizeStats(v1.stream[1], null, v1.hostConfig);
  // A busy loop held to half a CPU uses about half a core of a 2-CPU host: 25 % of the host.
  near(s.cpuCores, 0.5, 0.05, "cpuCores");
  near(s.cpuPercentOfHost, 25, 2.5, "cpuPercentOfHost");
  near(s.cpuPercentDocker, 50, 5, "cpuPercentDocker");
  assert.equal(s.cpuLimitCores, 0.5);
  near(s.cpuPercentOfLimit, 100, 10, "cpuPercentOfLimit");
  assert.equal(s.onlineCpus, 2);
  // Exact arithmetic on the captured counters.
  const cur = v1.stream[1].cpu_stats;
  const prev = v1.stream[1].precpu_stats!;
  const frac = (cur.cpu_usage.total_usage - prev.cpu_usage.total_usage) /
    (cur.system_cpu_usage! - prev.system_cpu_usage!);
  assert.equal(s.cpuPercentOfHost, Math.round(frac * 100 * 100) / 100);
});

Deno.test("summarizeStats() behaviour: v1 memory excludes total_inactive_file (page cache)", () => {
  const m = v1.stream[1].memory_stats;
  const s = summarizeStats(v1.stream[1], null, v1.hostConfig);
  assert.equal(m.stats!.total_inactive_file, 8 * 1024 * 1024); // the 8 MiB file the container wrote
  assert.equal(s.memoryUsedBytes, m.usage! - m.stats!.total_inactive_file);
  assert.equal(s.memoryLimitBytes, 64 * 1024 * 1024);
  assert.equal(s.memoryPercent, Math.round((s.memoryUsedBytes / s.memoryLimitBytes) * 10000) / 100);
  assert.equal(s.pids, 1);
});

Deno.test("summarizeStats() behaviour: first streamed and one-shot samples have no CPU rate alone", () => {
  for (const sample of [v1.stream[0], v1.oneshot]) {
    const s = summarizeStats(sample, null, v1.hostConfig);
    assert.equal(s.cpuPercentOfHost, null);
    assert.equal(s.cpuCores, null);
    assert.equal(s.cpuPercentOfLimit, null);
    assert.equal(s.networkRxBytesPerSec, null);
  }
});

Deno.test("summarizeStats() behaviour: one-shot sample with the previous one gives rates", () => {
  const prev = v1.stream[2];
  const s = summarizeStats(v1.oneshot, prev, v1.hostConfig);
  near(s.cpuCores, 0.5, 0.05, "cpuCores");
  const seconds = (parseStatsTime(v1.oneshot.read) - parseStatsTime(prev.read)) / 1000;
  const rx = networkTotals(v1.oneshot).rx - networkTotals(prev).rx;
  assert.ok(rx > 0, "the ping reply arrived between the samples");
  near(s.networkRxBytesPerSec, rx / seconds, 1e-9, "networkRxBytesPerSec");
  assert.equal(s.blockReadBytesPerSec, 0); // this VM's blkio cgroup accounts nothing
});

Deno.test("summarizeStats() behaviour: unlimited container reports host memory and no CPU limit", () => {
  const s = summarizeStats(v1.unlimitedOneshot, null, { NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0 });
  assert.equal(s.cpuLimitCores, null);
  assert.equal(s.cpuPercentOfLimit, null);
  assert.ok(s.memoryLimitBytes > 1024 ** 3, "limit falls back to the host's memory");
  assert.equal(s.memoryUsedBytes, v1.unlimitedOneshot.memory_stats.usage);
});

Deno.test("summarizeStats() behaviour: cgroup v2 shape gives exact figures", () => {
  const [a, b] = v2.samples;
  const s = summarizeStats(b, a, v2.hostConfig);
  assert.equal(s.onlineCpus, 4);
  assert.equal(s.cpuPercentOfHost, 37.5);
  assert.equal(s.cpuCores, 1.5);
  assert.equal(s.cpuPercentDocker, 150);
  assert.equal(s.cpuLimitCores, 2);
  assert.equal(s.cpuPercentOfLimit, 75);
  assert.equal(s.memoryUsedBytes, 80 * 1024 * 1024);
  assert.equal(s.memoryLimitBytes, 256 * 1024 * 1024);
  assert.equal(s.memoryPercent, 31.25);
  assert.equal(s.networkRxBytes, 3100);
  assert.equal(s.networkTxBytes, 1500);
  assert.equal(s.networkRxBytesPerSec, 2000);
  assert.equal(s.networkTxBytesPerSec, 1000);
  assert.equal(s.blockReadBytes, 4096 + 1048576);
  assert.equal(s.blockWriteBytes, 8192 + 2097152 + 1000);
  assert.equal(s.blockReadBytesPerSec, 1048576);
  assert.equal(s.blockWriteBytesPerSec, 2097152);
  assert.equal(s.pids, 7);
  assert.equal(s.readAt, Date.UTC(2024, 4, 1, 10, 0, 1));
  // The streamed form (precpu_stats inside the sample) gives the same CPU figures.
  assert.equal(summarizeStats(b, null, v2.hostConfig).cpuPercentOfHost, 37.5);
});

Deno.test("blockIoTotals() behaviour: v1 Read/Write counted once, Sync/Async/Total ignored", () => {
  const s: DockerStats = structuredClone(v1.oneshot);
  s.blkio_stats = {
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: "Read", value: 1000 },
      { major: 8, minor: 0, op: "Write", value: 3000 },
      { major: 8, minor: 0, op: "Sync", value: 3500 },
      { major: 8, minor: 0, op: "Async", value: 500 },
      { major: 8, minor: 0, op: "Discard", value: 0 },
      { major: 8, minor: 0, op: "Total", value: 4000 },
      { major: 8, minor: 16, op: "Read", value: 24 },
      { major: 8, minor: 16, op: "Total", value: 24 },
    ],
  };
  assert.deepEqual(blockIoTotals(s), { read: 1024, write: 3000 });
  s.blkio_stats = { io_service_bytes_recursive: null };
  assert.deepEqual(blockIoTotals(s), { read: 0, write: 0 });
});

Deno.test("memoryUsed() behaviour: v1 without total_inactive_file falls back to cache", () => {
  assert.equal(memoryUsed({ usage: 1000, stats: { cache: 300 } }), 700);
  assert.equal(memoryUsed({ usage: 1000, stats: { inactive_file: 100 } }), 900);
  assert.equal(memoryUsed({ usage: 1000, stats: {} }), 1000);
  assert.equal(memoryUsed({ usage: 100, stats: { total_inactive_file: 500 } }), 100);
  assert.equal(memoryUsed({}), 0); // a stopped container's empty memory_stats
});

Deno.test("cpuLimitCores() behaviour: NanoCpus wins, then quota over period", () => {
  assert.equal(cpuLimitCores({ NanoCpus: 1_500_000_000 }), 1.5);
  assert.equal(cpuLimitCores({ CpuQuota: 50_000, CpuPeriod: 100_000 }), 0.5);
  assert.equal(cpuLimitCores({ CpuQuota: 50_000, CpuPeriod: 0 }), 0.5);
  assert.equal(cpuLimitCores({ NanoCpus: 0, CpuQuota: -1 }), null);
  assert.equal(cpuLimitCores(undefined), null);
});

Deno.test("cpuFraction() behaviour: counters going backwards (restart) give null", () => {
  const a = v1.stream[2].cpu_stats;
  const b = v1.stream[1].cpu_stats;
  assert.equal(cpuFraction(b, a), null);
  assert.equal(cpuFraction(a, undefined), null);
});

Deno.test("parseStatsTime() behaviour: nanosecond timestamps and the zero time", () => {
  assert.equal(
    parseStatsTime("2024-05-01T10:00:00.123456789Z"),
    Date.UTC(2024, 4, 1, 10, 0, 0, 123),
  );
  assert.ok(Number.isNaN(parseStatsTime("0001-01-01T00:00:00Z")));
  assert.ok(Number.isNaN(parseStatsTime(undefined)));
});
