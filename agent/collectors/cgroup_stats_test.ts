import assert from "node:assert/strict";
import { createDockerClient } from "../../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../../lib/docker/testing.ts";
import { detectLayout, parseBlockIo, parseNetDev, rates, readSnapshot } from "./cgroup_stats.ts";

Deno.test("parseNetDev() sums all interfaces but loopback", () => {
  const text = `Inter-|   Receive |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:     200       2    0    0    0     0          0         0       50       1    0    0    0     0       0          0
  eth1:      10       2    0    0    0     0          0         0        5       1    0    0    0     0       0          0`;
  assert.deepEqual(parseNetDev(text), { rx: 210, tx: 55 });
});

Deno.test("parseBlockIo() reads cgroup v1 and v2 formats", () => {
  assert.deepEqual(parseBlockIo("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\nTotal 12288", 1), {
    read: 4096,
    write: 8192,
  });
  assert.deepEqual(
    parseBlockIo("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2", 2),
    { read: 101, write: 202 },
  );
});

Deno.test("rates() turns two snapshots into per-second figures and ignores counters that went back", () => {
  const base = {
    id: "x",
    memoryUsageBytes: 100,
    memoryInactiveFileBytes: 30,
    memoryLimitBytes: null,
    pids: 1,
    blockReadBytes: 0,
    blockWriteBytes: 0,
  };
  const a = { ...base, at: 0, cpuNanos: 0, netRxBytes: 1000, netTxBytes: 0 };
  const b = { ...base, at: 2000, cpuNanos: 1e9, netRxBytes: 3000, netTxBytes: 0 };
  const r = rates(a, b, 2);
  assert.equal(r.cpuCores, 0.5);
  assert.equal(r.cpuPercentOfHost, 25);
  assert.equal(r.netRxPerSec, 1000);
  assert.equal(r.memoryUsedBytes, 70);
  assert.equal(rates(b, { ...a, at: 4000 }, 2).netRxPerSec, 0, "reset, not a negative spike");
});

Deno.test({
  name: "[docker] readSnapshot() reads a running container's cgroup and network counters",
  ignore: dockerTestsIgnored("cgroup-stats"),
  async fn() {
    const docker = createDockerClient();
    try {
      const { id } = await docker.createContainer(testName("cgroup-stats", "busy"), {
        image: TEST_IMAGE,
        cmd: ["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 600"],
        labels: testLabels("cgroup-stats"),
        memoryBytes: 64 * 1024 * 1024,
      });
      await docker.startContainer(id);
      const pid = (await docker.inspectContainer(id)).State.Pid;
      const layout = await detectLayout("/sys/fs/cgroup", id);
      const first = await readSnapshot(layout, id, pid);
      assert.ok(first, "snapshot of a running container");
      await new Promise((r) => setTimeout(r, 300));
      const second = (await readSnapshot(layout, id, pid))!;
      assert.ok(second.cpuNanos >= first.cpuNanos && second.cpuNanos > 0);
      assert.equal(second.memoryLimitBytes, 64 * 1024 * 1024);
      assert.ok(second.memoryUsageBytes > 0);
      assert.ok(second.pids >= 1);
      assert.equal(await readSnapshot(layout, "0".repeat(64), undefined), undefined);
    } finally {
      await cleanupSuite(docker, "cgroup-stats");
      docker.close();
    }
  },
});
