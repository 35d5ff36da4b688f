import assert from "node:assert/strict";
import { SERIES_KEY } from "../../lib/protocol/metrics.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../../lib/docker/testing.ts";
import type { CgroupSnapshot } from "./cgroup_stats.ts";
import {
  containerCounters,
  containerSeries,
  cpuLimitCores,
  createContainerCollector,
} from "./containers.ts";

const snap = (at: number, over: Partial<CgroupSnapshot> = {}): CgroupSnapshot => ({
  id: "a".repeat(64),
  at,
  cpuNanos: 0,
  memoryUsageBytes: 300,
  memoryInactiveFileBytes: 100,
  memoryLimitBytes: 1000,
  pids: 3,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  ...over,
});

Deno.test("cpuLimitCores() reads NanoCpus or quota/period", () => {
  assert.equal(cpuLimitCores({ NanoCpus: 1_500_000_000 }), 1.5);
  assert.equal(cpuLimitCores({ CpuQuota: 50_000, CpuPeriod: 100_000 }), 0.5);
  assert.equal(cpuLimitCores({ CpuQuota: 25_000, CpuPeriod: 0 }), 0.25);
  assert.equal(cpuLimitCores({ NanoCpus: 0, CpuQuota: 0 }), undefined);
  assert.equal(cpuLimitCores({ CpuQuota: -1 }), undefined);
});

Deno.test("containerSeries() gives gauges at once and rates from the second snapshot", () => {
  const facts = { hostCpus: 4, hostMemBytes: 8000, cpuLimitCores: 0.5 };
  const first = containerSeries(snap(0), undefined, facts);
  assert.deepEqual(first, {
    "ctr.pids": 3,
    "ctr.mem_used_bytes": 200,
    "ctr.mem_limit_bytes": 1000,
    "ctr.mem_pct": 20,
  });
  const later = snap(10_000, { cpuNanos: 2e9, blockReadBytes: 10_000, blockWriteBytes: 5000 });
  const s = containerSeries(later, snap(0), facts, {
    cur: { rx: 5000, tx: 1000 },
    prev: { rx: 0, tx: 0 },
  });
  assert.equal(s["ctr.cpu_cores"], 0.2);
  assert.equal(s["ctr.cpu_pct"], 5);
  assert.equal(s["ctr.cpu_limit_pct"], 40);
  assert.equal(s["ctr.blk_read_bps"], 1000);
  assert.equal(s["ctr.blk_write_bps"], 500);
  assert.equal(s["ctr.net_rx_bps"], 500);
  assert.equal(s["ctr.net_tx_bps"], 100);
  for (const k of Object.keys(s)) assert.match(k, SERIES_KEY);
});

Deno.test("containerCounters() gives CPU seconds and bytes since the container started", () => {
  const s = snap(0, { cpuNanos: 2_500_000_000, blockReadBytes: 4096, blockWriteBytes: 8192 });
  assert.deepEqual(containerCounters(s, { rx: 100, tx: 200 }), {
    "ctr.cpu_seconds_total": 2.5,
    "ctr.blk_read_bytes_total": 4096,
    "ctr.blk_write_bytes_total": 8192,
    "ctr.net_rx_bytes_total": 100,
    "ctr.net_tx_bytes_total": 200,
  });
  assert.equal(containerCounters(s)["ctr.net_rx_bytes_total"], undefined, "shared network: none");
  for (const k of Object.keys(containerCounters(s))) assert.match(k, SERIES_KEY);
});

Deno.test("containerSeries() treats an unlimited container's memory against the host, and resets", () => {
  const s = containerSeries(
    snap(10_000, { memoryLimitBytes: null, cpuNanos: 1e9 }),
    snap(0, { cpuNanos: 5e9 }), // restarted: the counter went back
    { hostCpus: 2, hostMemBytes: 2000 },
    { cur: { rx: 10, tx: 10 }, prev: { rx: 1e9, tx: 0 } },
  );
  assert.equal(s["ctr.mem_limit_bytes"], 2000);
  assert.equal(s["ctr.mem_pct"], 10);
  assert.equal(s["ctr.cpu_cores"], 0, "no negative or huge spike");
  assert.equal(s["ctr.cpu_limit_pct"], undefined, "no limit, no % of limit");
  assert.equal(s["ctr.net_rx_bps"], undefined, "rx went back: baseline restarts");
  assert.equal(s["ctr.net_tx_bps"], 1);
});

const SUITE = "metrics-containers";

Deno.test({
  name: "[docker] createContainerCollector() reports a running container's ctr.* series",
  ignore: dockerTestsIgnored(SUITE),
  async fn() {
    const docker = createDockerClient();
    try {
      const { id } = await docker.createContainer(testName(SUITE, "busy"), {
        image: TEST_IMAGE,
        // Burns about a third of a core, under its limit of half a core.
        cmd: [
          "sh",
          "-c",
          "while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.05; done",
        ],
        labels: testLabels(SUITE),
        memoryBytes: 64 * 1024 * 1024,
        nanoCpus: 500_000_000,
      });
      await docker.startContainer(id);
      const hostNet = await docker.createContainer(testName(SUITE, "hostnet"), {
        image: TEST_IMAGE,
        cmd: ["sleep", "600"],
        labels: testLabels(SUITE),
        networkMode: "host",
      });
      await docker.startContainer(hostNet.id);
      const c = createContainerCollector({ docker });
      const first = await c.collect(Date.now());
      assert.ok(first[id], "the running container is collected");
      assert.equal(first[id]["ctr.mem_limit_bytes"], 64 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 1000));
      const s = (await c.collect(Date.now()))[id];
      for (const k of Object.keys(s)) assert.match(k, SERIES_KEY);
      assert.ok(s["ctr.cpu_cores"] > 0.05 && s["ctr.cpu_cores"] <= 0.6, JSON.stringify(s));
      assert.ok(s["ctr.cpu_limit_pct"] > 10 && s["ctr.cpu_limit_pct"] <= 120, JSON.stringify(s));
      assert.ok(s["ctr.cpu_pct"] > 0 && s["ctr.cpu_pct"] <= 100);
      assert.ok(s["ctr.mem_used_bytes"] > 0 && s["ctr.mem_pct"] > 0 && s["ctr.mem_pct"] < 100);
      assert.ok(s["ctr.pids"] >= 1);
      // Its own network namespace (bridge): net series are present, zero or more.
      assert.ok(s["ctr.net_rx_bps"] >= 0 && s["ctr.net_tx_bps"] >= 0, JSON.stringify(s));
      assert.ok(s["ctr.blk_read_bps"] >= 0 && s["ctr.blk_write_bps"] >= 0);
      const h = (await c.collect(Date.now()))[hostNet.id];
      assert.ok(h && h["ctr.pids"] >= 1);
      assert.equal(h["ctr.net_rx_bps"], undefined, "the host's traffic is not the container's");
      await docker.removeContainer(id, { force: true });
      assert.equal((await c.collect(Date.now()))[id], undefined, "gone containers are forgotten");
    } finally {
      await cleanupSuite(docker, SUITE);
      docker.close();
    }
  },
});
