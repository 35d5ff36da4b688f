/**
 * End-to-end: the real agent (a subprocess) whose state directory is on a read-only filesystem
 * when it starts — a small tmpfs this test mounts and remounts, as root. The agent still reports
 * (from memory), the hub's host page says why its spool is at risk, and once the filesystem is
 * writable again the agent spools as usual; no sample is lost or doubled on the way.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { hostView } from "../lib/hosts/view.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { spawnAgent } from "./support/agent_process.ts";
import { cannotMount, mountTmpfs, run, until } from "./support/process.ts";
import { startTestHub } from "./support/hub.ts";
import { allRawRows } from "../lib/metrics/chunks.ts";

const INTERVAL_MS = 250;

const why = cannotMount();
if (why) console.log(`note: the read-only state dir end-to-end test is ignored: ${why}`);

Deno.test({
  name:
    "[e2e] agent with a read-only state dir at start reports from memory, says why, and spools once it is writable",
  ignore: why !== null || dockerTestsIgnored("agent-spool-readonly"),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-ro-hub-" });
    const stateDir = await Deno.makeTempDir({ prefix: "capstan-ro-agent-" });
    const unmount = await mountTmpfs(stateDir, "4m");
    const hub = await startTestHub(dataDir);
    let agent: ReturnType<typeof spawnAgent> | undefined;
    try {
      const s = hub.services;
      const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
      const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "ro-box" });
      const machineId = "machine-ro-" + crypto.randomUUID().slice(0, 8);
      const { token } = await s.hosts.enroll(SYSTEM_CTX, {
        token: enrollment.token,
        machineId,
        hostname: "ro-box",
      });
      // An enrolled agent's state dir; then the filesystem turns read-only (as after disk errors).
      await Deno.writeTextFile(join(stateDir, "machine-id"), machineId);
      await Deno.writeTextFile(join(stateDir, "host-token"), token + "\n", { mode: 0o600 });
      await run("mount", ["-o", "remount,ro", stateDir]);

      agent = spawnAgent({
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_AGENT_DIR: stateDir,
        CAPSTAN_MACHINE_ID_FILE: join(stateDir, "machine-id"),
        CAPSTAN_METRICS_INTERVAL_MS: String(INTERVAL_MS),
        CAPSTAN_REPORT_INTERVAL_MS: "500",
        CAPSTAN_AGENT_LOG_LEVEL: "info",
      });
      const output = agent.output;

      const batches = async () =>
        Number(
          (await s.db.selectFrom("metric_batches").select((eb) => eb.fn.countAll().as("n"))
            .where("host_id", "=", host.id).executeTakeFirstOrThrow()).n,
        );
      const notes = async () =>
        await s.metrics.notes(hostView((await s.hosts.byId(host.id))!, true), true);
      await until("reports from memory", async () => (await batches()) >= 4, 60_000);
      const atRisk = (await notes()).find((n) => n.kind === "problem");
      assert.ok(atRisk?.kind === "problem", `the host page says the spool is at risk: ${output()}`);
      assert.match(atRisk.text, /cannot write its metrics spool \(.*Read-only file system/);
      assert.match(output(), /cannot write to the spool; sending from memory/);

      // Writable again: the agent opens its spool (it retries every 10 s) and the warning goes.
      await run("mount", ["-o", "remount,rw", stateDir]);
      await until("the spool in use", async () => {
        try {
          await Deno.stat(join(stateDir, "metrics-spool", "state.json"));
        } catch {
          return false;
        }
        return !(await notes()).some((n) => n.kind === "problem");
      }, 40_000);
      const spooledFrom = await batches();
      await until(
        "spooled batches delivered",
        async () => (await batches()) >= spooledFrom + 3,
        60_000,
      );

      assert.equal((await agent.stop()).code, 0);
      agent = undefined;
      const times = (await allRawRows(s.db, host.id)).filter((r) =>
        r.key === "cpu.total_pct" && !r.container_id
      ).map((r) => r.t);
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
      assert.ok(
        gap <= INTERVAL_MS * 4,
        `no hole while switching from memory to the spool (${gap} ms)`,
      );
    } finally {
      await agent?.stop();
      await hub.stop();
      await unmount();
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
