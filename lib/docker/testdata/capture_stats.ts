/**
 * Regenerates stats_v1_capture.json from the local engine (cgroup v1 on the CI VM):
 * `deno run -A lib/docker/testdata/capture_stats.ts`. Kept so the fixtures can be re-captured
 * on another engine (e.g. a cgroup v2 host) instead of edited by hand.
 */
import { createDockerClient } from "../client.ts";

const docker = createDockerClient();
const labels = { "capstan.test": "1", "capstan.test.suite": "docker-client" };
const gw = (await docker.inspectNetwork("bridge")).IPAM.Config?.[0]?.Gateway ?? "172.17.0.1";
// Busy CPU under a 0.5-CPU limit, some page cache (buffered file write), some network traffic.
const script = `dd if=/dev/zero of=/cache.bin bs=1M count=8 2>/dev/null; ` +
  `ping -c 3 -i 0.2 ${gw} >/dev/null; while :; do :; done`;
const busy = await docker.createContainer("capstan-capture-busy", {
  image: "capstan-test/busybox:latest",
  cmd: ["sh", "-c", script],
  labels,
  nanoCpus: 500_000_000,
  memoryBytes: 64 * 1024 * 1024,
});
const idle = await docker.createContainer("capstan-capture-idle", {
  image: "capstan-test/busybox:latest",
  cmd: ["sleep", "60"],
  labels,
});
try {
  await docker.startContainer(busy.id);
  await docker.startContainer(idle.id);
  await new Promise((r) => setTimeout(r, 2000));
  const hc = (await docker.inspectContainer(busy.id)).HostConfig;
  const stream = [];
  const s = await docker.containerStats(busy.id, { stream: true });
  for await (const sample of s) {
    stream.push(sample);
    if (stream.length === 3) break; // the first streamed sample has empty precpu_stats
  }
  const oneshot = await docker.containerStatsOnce(busy.id);
  const unlimitedOneshot = await docker.containerStatsOnce(idle.id);
  const out = {
    _comment: "Captured from Docker 20.10 (API 1.41), cgroup v1, by capture_stats.ts",
    hostConfig: {
      NanoCpus: hc.NanoCpus,
      CpuQuota: hc.CpuQuota,
      CpuPeriod: hc.CpuPeriod,
      Memory: hc.Memory,
    },
    stream,
    oneshot,
    unlimitedOneshot,
  };
  const path = new URL("./stats_v1_capture.json", import.meta.url);
  await Deno.writeTextFile(path, JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${path.pathname}`);
} finally {
  await docker.removeContainer(busy.id, { force: true, v: true });
  await docker.removeContainer(idle.id, { force: true, v: true });
  docker.close();
}
