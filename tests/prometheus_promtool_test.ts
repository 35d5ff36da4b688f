/**
 * `/metrics` of a live hub, fed by the agent's real collectors on this machine, checked by
 * Prometheus' own linter (`promtool check metrics`, Debian package `prometheus`; CI installs it).
 */
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";
import { gzip } from "../agent/metrics/reporter.ts";
import { createHostCollectors } from "../agent/metrics/collectors.ts";
import type { Series } from "../agent/collectors/common.ts";
import { containerCounters, containerSeries } from "../agent/collectors/containers.ts";
import type { CgroupSnapshot } from "../agent/collectors/cgroup_stats.ts";

const PROMTOOL = Deno.env.get("CAPSTAN_PROMTOOL") ?? "/usr/bin/promtool";
const IN_CI = Deno.env.get("CI") === "true";
const CTR = "e".repeat(64);

function promtoolPresent(): boolean {
  try {
    return Deno.statSync(PROMTOOL).isFile;
  } catch {
    return false;
  }
}

/** Two reads of every host collector (rates need two) merged into one sample's host series. */
async function hostSeries(): Promise<Series> {
  const collectors = createHostCollectors();
  const out: Series = {};
  for (let round = 0; round < 2; round++) {
    if (round) await new Promise((r) => setTimeout(r, 200)); // rates need time between reads
    for (const c of collectors) Object.assign(out, (await c.collect(Date.now())) ?? {});
  }
  for (const c of collectors) await c.close?.();
  return out;
}

/** Every ctr.* series a container with its own network and a CPU limit reports. */
function containerValues(): Series {
  const snap = (at: number, n: number): CgroupSnapshot => ({
    id: CTR,
    at,
    cpuNanos: n * 1e9,
    memoryUsageBytes: 300e6,
    memoryInactiveFileBytes: 100e6,
    memoryLimitBytes: 1e9,
    pids: 3,
    blockReadBytes: n * 4096,
    blockWriteBytes: n * 8192,
    netRxBytes: 0,
    netTxBytes: 0,
  });
  const net = { cur: { rx: 5000, tx: 1000 }, prev: { rx: 0, tx: 0 } };
  return {
    ...containerSeries(snap(10_000, 2), snap(0, 1), { hostCpus: 2, cpuLimitCores: 0.5 }, net),
    ...containerCounters(snap(10_000, 2), net.cur),
  };
}

Deno.test({
  name: "[e2e] /metrics of a live hub passes `promtool check metrics` with no problems",
  ignore: !promtoolPresent() && !IN_CI,
  async fn() {
    assert.ok(promtoolPresent(), `${PROMTOOL} is missing (apt-get install prometheus)`);
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-promtool-" });
    const hub = await startHub(
      loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "0" }),
      { log: silentLogger, jobs: false },
    );
    try {
      const s = hub.services;
      const sys = { actor: { type: "system" as const, name: "test" } };
      const user = await s.accounts.createUser(sys, {
        email: "prom@x.io",
        name: "prom",
        password: "prom-password-1",
      });
      await s.accounts.ensureMembership(sys, user.id, "acme", "owner");
      const org = (await s.orgs.bySlug("acme"))!;
      const { token } = await s.tokens.create({
        userId: user.id,
        orgId: org.id,
        name: "scrape",
        scope: "read",
        expiresAt: null,
      });
      const { enrollment } = await s.hosts.create(sys, org.id, { name: "web-1" });
      const { token: hostToken } = await s.hosts.enroll(sys, {
        token: enrollment.token,
        machineId: "machine-promtool",
        hostname: "web-1",
      });

      const host = await hostSeries();
      // A key this hub has no mapping for, and labels that would clash with the hub's own.
      host["custom.queue_pct"] = 12.5;
      host["custom.thing{host=other}"] = 1;
      const report = await fetch(`${hub.url}/api/v1/agent/report`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${hostToken}`,
          "x-capstan-machine-id": "machine-promtool",
          "content-encoding": "gzip",
        },
        body: await gzip(JSON.stringify({
          seq: 0,
          dropped: 0,
          samples: [{ t: Date.now() - 1000, host, containers: { [CTR]: containerValues() } }],
        })),
      });
      assert.equal(report.status, 200, await report.text());

      const res = await fetch(`${hub.url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const text = await res.text();
      // What the machine's collectors report shows under node_exporter's and cAdvisor's names.
      for (
        const family of [
          "capstan_host_up",
          "capstan_cpu_usage_ratio",
          "node_load1",
          "capstan_memory_used_bytes",
          "node_network_receive_bytes_total",
          "container_cpu_usage_seconds_total",
          "container_network_transmit_bytes_total",
          "capstan_custom_queue_ratio",
        ]
      ) {
        assert.match(text, new RegExp(`^# TYPE ${family} `, "m"), `${family} in\n${text}`);
      }

      const child = new Deno.Command(PROMTOOL, {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(text));
      await w.close();
      const out = await child.output();
      const problems = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(problems.trim(), "", `promtool check metrics:\n${problems}\n---\n${text}`);
      assert.equal(out.code, 0);
    } finally {
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
