import assert from "node:assert/strict";
import { SERIES_KEY } from "../../lib/protocol/metrics.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import { dockerTestsIgnored } from "../../lib/docker/testing.ts";
import type { Series } from "../collectors/common.ts";
import { findOnPath } from "../collectors/gpu.ts";
import { createHostCollectors } from "./collectors.ts";

const linux = Deno.build.os === "linux";

async function collectAll(collectors: ReturnType<typeof createHostCollectors>): Promise<Series> {
  const out: Series = {};
  for (const c of collectors) Object.assign(out, await c.collect(Date.now()));
  return out;
}

const values = (s: Series, prefix: string) =>
  Object.entries(s).filter(([k]) => k.startsWith(prefix));

Deno.test({
  name: "[real] createHostCollectors() reads plausible values from this machine's /proc and /sys",
  ignore: !linux,
  async fn() {
    const collectors = createHostCollectors();
    await collectAll(collectors); // baselines for the rates
    await new Promise((r) => setTimeout(r, 1000));
    const s = await collectAll(collectors);
    for (const [k, v] of Object.entries(s)) {
      assert.match(k, SERIES_KEY);
      assert.ok(Number.isFinite(v) && v >= 0, `${k} = ${v}`);
    }
    // CPU: a share of 100 overall and per core, every online core present.
    for (
      const k of [
        "cpu.total_pct",
        "cpu.user_pct",
        "cpu.system_pct",
        "cpu.iowait_pct",
        "cpu.steal_pct",
      ]
    ) {
      assert.ok(s[k] >= 0 && s[k] <= 100, `${k} = ${s[k]}`);
    }
    const cores = values(s, "cpu.core_pct{core=");
    assert.ok(
      cores.length >= 1 && cores.length >= navigator.hardwareConcurrency,
      JSON.stringify(cores),
    );
    assert.ok(s["load.1"] >= 0 && s["load.5"] >= 0 && s["load.15"] >= 0);
    // Memory agrees with what Deno reads from the kernel.
    const mem = Deno.systemMemoryInfo();
    assert.equal(s["mem.total_bytes"], mem.total);
    assert.ok(s["mem.used_bytes"] > 0 && s["mem.used_bytes"] < s["mem.total_bytes"]);
    assert.ok(s["mem.used_pct"] > 0 && s["mem.used_pct"] < 100);
    assert.ok(s["mem.available_bytes"] > 0 && s["mem.cached_bytes"] >= 0);
    assert.ok(s["swap.used_bytes"] <= s["swap.total_bytes"]);
    assert.ok(Math.abs(s["host.uptime_s"] - Deno.osUptime()) <= 2);
    // The root filesystem, and nothing of Docker's own mounts or virtual filesystems.
    assert.ok(s["fs.total_bytes{mount=/}"] > 0);
    assert.ok(s["fs.used_bytes{mount=/}"] <= s["fs.total_bytes{mount=/}"]);
    assert.ok(s["fs.used_pct{mount=/}"] > 0 && s["fs.used_pct{mount=/}"] <= 100);
    assert.ok(
      Object.keys(s).every((k) => !/mount=\/(proc|sys|dev|run|var\/lib\/docker)\b/.test(k)),
    );
    // Network: each interface but loopback; disks: no partitions or loop devices.
    assert.ok(values(s, "net.rx_bps{").length >= 1, "at least one interface");
    assert.ok(!Object.keys(s).some((k) => k.includes("iface=lo}")));
    assert.ok(!Object.keys(s).some((k) => /dev=(loop|ram|zram)\d|dev=[a-z]+d[a-z]\d/.test(k)));
    const disks = [...Deno.readDirSync("/sys/block")].map((e) => e.name)
      .filter((n) => !/^(loop|ram|zram|dm-|md|sr|fd)/.test(n));
    for (const d of disks) assert.ok(`disk.read_bps{dev=${d}}` in s, `disk ${d} reported`);
    // GPU series exactly when nvidia-smi exists.
    assert.equal(values(s, "gpu.").length > 0, findOnPath("nvidia-smi") !== undefined);
    for (const c of collectors) await c.close?.();
  },
});

Deno.test({
  name: "[docker] createHostCollectors() measures the engine's data root",
  ignore: !linux || dockerTestsIgnored("metrics-real"),
  async fn() {
    const docker = createDockerClient();
    // At the default 1% of a core, a data root full of the suite's images takes minutes to walk
    // (CI failed waiting 10 s for it): this test is about the wiring, so the walk may use a core.
    const collectors = createHostCollectors({ docker, dockerRootDutyCycle: 1 });
    try {
      const dataRoot = collectors.find((c) => c.name === "docker_root")!;
      let s;
      const deadline = Date.now() + 120_000;
      while (!s && Date.now() < deadline) {
        s = await dataRoot.collect(Date.now());
        if (!s) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(s && s["docker.root_bytes"] > 0, JSON.stringify(s));
      // A walk cut short by its 5 s work budget on a busy machine says so instead of passing off
      // a part as the whole.
      assert.ok(s["docker.root_partial"] === 0 || s["docker.root_partial"] === 1);
    } finally {
      for (const c of collectors) await c.close?.();
      docker.close();
    }
  },
});
