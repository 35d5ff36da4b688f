/**
 * End-to-end metrics: the real hub and the real agent as separate processes. The hub is killed
 * with SIGKILL while the agent keeps sampling; after the hub comes back the agent's spool drains in
 * order, and no sequence number or sample is lost or duplicated.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { freePort, hubHealthy, until } from "./support/process.ts";
import { allRawRows } from "../lib/metrics/chunks.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const INTERVAL_MS = 250;

function spawn(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
}

Deno.test({
  name:
    "[e2e] metrics survive a hub killed with SIGKILL: spooled batches arrive in order, none lost or duplicated",
  ignore: dockerTestsIgnored("metrics-e2e"),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-metrics-e2e-" });
    const agentDir = await Deno.makeTempDir({ prefix: "capstan-agent-e2e-" });
    const port = freePort();
    const hubEnv = {
      CAPSTAN_PORT: String(port),
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_LOCAL_AGENT: "0",
      CAPSTAN_LOG_LEVEL: "warn",
    };
    // Seed a host and its enrollment token before the hub starts (one writer at a time).
    const dbh = openDatabase(`sqlite:${join(dataDir, "capstan.db")}`);
    await migrateToLatest(dbh.db);
    const s = testServices(dbh);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
    const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "box" });
    await dbh.close();
    await Deno.writeTextFile(
      join(agentDir, "machine-id"),
      "e2e-machine-" + crypto.randomUUID().slice(0, 8),
    );

    let hub = spawn(["main.ts"], hubEnv);
    const healthy = () => hubHealthy(port);
    const agent = spawn(["agent/main.ts"], {
      CAPSTAN_HUB_URL: `http://127.0.0.1:${port}`,
      CAPSTAN_ENROLL_TOKEN: enrollment.token,
      CAPSTAN_AGENT_DIR: agentDir,
      CAPSTAN_MACHINE_ID_FILE: join(agentDir, "machine-id"),
      CAPSTAN_METRICS_INTERVAL_MS: String(INTERVAL_MS),
      CAPSTAN_REPORT_INTERVAL_MS: "500",
      CAPSTAN_AGENT_LOG_LEVEL: "warn",
    });
    const readDb = () => openDatabase(`sqlite:${join(dataDir, "capstan.db")}`);
    const seqs = async () => {
      const d = readDb();
      try {
        return (await d.db.selectFrom("metric_batches").select("seq").where("host_id", "=", host.id)
          .orderBy("seq").execute())
          .map((r) => Number(r.seq));
      } finally {
        await d.close();
      }
    };
    try {
      await until("hub up", healthy);
      await until("first batches", async () => (await seqs()).length >= 3);
      hub.kill("SIGKILL");
      await hub.status;
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 4000)); // the agent keeps sampling and spooling
      const before = (await seqs()).length;
      hub = spawn(["main.ts"], hubEnv);
      await until("hub back", healthy);
      // The spool drains: batches from the outage arrive and sampling covers the outage window.
      await until("outage covered", async () => (await seqs()).length >= before + 10);
      agent.kill("SIGTERM");
      assert.equal((await agent.status).code, 0);

      const got = await seqs();
      assert.deepEqual(
        got,
        got.map((_, i) => i),
        "sequence numbers are contiguous from 0: none lost, none twice",
      );
      const d = readDb();
      try {
        const times = (await allRawRows(d.db, host.id))
          .filter((r) => r.key === "cpu.total_pct" && !r.container_id).map((r) => r.t);
        const outage = times.filter((t) => t > killedAt && t < killedAt + 4000);
        assert.ok(
          outage.length >= 10,
          `samples taken while the hub was down were delivered (${outage.length})`,
        );
        let maxGap = 0;
        for (let i = 1; i < times.length; i++) maxGap = Math.max(maxGap, times[i] - times[i - 1]);
        assert.ok(maxGap <= INTERVAL_MS * 3, `no hole in the series (largest gap ${maxGap} ms)`);
        assert.equal(new Set(times).size, times.length, "no sample twice");
      } finally {
        await d.close();
      }
    } finally {
      try {
        agent.kill("SIGKILL");
      } catch { /* already gone */ }
      try {
        hub.kill("SIGKILL");
      } catch { /* already gone */ }
      await agent.status;
      await hub.status;
      await agent.stderr.cancel();
      await hub.stderr.cancel();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(agentDir, { recursive: true });
    }
  },
});
