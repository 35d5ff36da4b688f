import assert from "node:assert/strict";
import { createDockerClient } from "../../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../../lib/docker/testing.ts";
import { silentLogger } from "../../lib/log.ts";
import { startMetrics } from "./mod.ts";
import { startReceiver } from "./receiver.ts";

const SUITE = "metrics-e2e";
const TOKEN = "caph_metrics-e2e";

Deno.test({
  name: "[docker] startMetrics() samples host and containers and delivers batches to the hub",
  ignore: dockerTestsIgnored(SUITE),
  async fn() {
    const docker = createDockerClient();
    const receiver = startReceiver({ token: TOKEN });
    const stateDir = await Deno.makeTempDir();
    try {
      const { id } = await docker.createContainer(testName(SUITE, "idle"), {
        image: TEST_IMAGE,
        cmd: ["sleep", "600"],
        labels: testLabels(SUITE),
      });
      await docker.startContainer(id);
      const metrics = await startMetrics({
        hubUrl: receiver.url,
        token: TOKEN,
        stateDir,
        docker,
        log: silentLogger,
        intervalMs: 200,
        containerIntervalMs: 400,
        reportIntervalMs: 500,
      });
      const end = Date.now() + 10_000;
      const withContainer = () =>
        receiver.received.flatMap((r) => r.batch.samples).filter((s) =>
          s.containers?.[id]?.["ctr.cpu_pct"] !== undefined
        );
      while (withContainer().length < 2 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await metrics.stop();
      const stats = metrics.stats();
      assert.equal(stats.reporter.state, "stopped");
      assert.ok(stats.sampler.samples >= 5, JSON.stringify(stats));
      const seqs = receiver.received.map((r) => r.batch.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i), "in order from 0");
      const samples = receiver.received.flatMap((r) => r.batch.samples);
      assert.ok(samples.some((s) => s.host["cpu.total_pct"] !== undefined));
      assert.ok(samples.every((s) => s.host["mem.total_bytes"] > 0));
      const ctr = withContainer().at(-1)!.containers![id];
      assert.ok(ctr["ctr.mem_used_bytes"] > 0 && ctr["ctr.pids"] >= 1, JSON.stringify(ctr));
      // Samples are on a 200 ms grid: in order, typically one interval apart.
      const gaps = samples.slice(1).map((s, i) => s.t - samples[i].t).sort((a, b) => a - b);
      assert.ok(gaps[0] > 0, "increasing stamps");
      const median = gaps[Math.floor(gaps.length / 2)];
      assert.ok(median >= 180 && median <= 260, JSON.stringify(gaps));
      // Whatever was buffered at stop() is on disk for the next run, not lost.
      assert.equal(
        stats.reporter.spool.batches + stats.reporter.batchesSent,
        stats.reporter.batchesSpooled,
      );
    } finally {
      await receiver.close();
      await cleanupSuite(docker, SUITE);
      docker.close();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});
