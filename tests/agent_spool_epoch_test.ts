/**
 * End-to-end: the real agent's spool directory is removed between two runs (a reinstall, a wiped
 * state dir). The new spool numbers its batches from 0 again in a new epoch; the hub stores them
 * rather than taking them for retries of the old ones, logs the change and shows it on the host's
 * page.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { hostView } from "../lib/hosts/view.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { spawnAgent } from "./support/agent_process.ts";
import { until } from "./support/process.ts";
import { startTestHub } from "./support/hub.ts";
import { keptLog } from "./support/log.ts";
import { allRawRows } from "../lib/metrics/chunks.ts";

Deno.test({
  name:
    "[e2e] agent spool removed: the new spool's batches (seq 0 again, new epoch) are stored, logged and shown",
  ignore: dockerTestsIgnored("agent-spool-epoch"),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-epoch-hub-" });
    const stateDir = await Deno.makeTempDir({ prefix: "capstan-epoch-agent-" });
    const { log, lines: logged } = keptLog();
    const hub = await startTestHub(dataDir, {}, { log });
    let agent: ReturnType<typeof spawnAgent> | undefined;
    try {
      const s = hub.services;
      const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
      const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "box" });
      await Deno.writeTextFile(join(stateDir, "machine-id"), "machine-epoch-0001");
      const env = {
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_ENROLL_TOKEN: enrollment.token,
        CAPSTAN_AGENT_DIR: stateDir,
        CAPSTAN_MACHINE_ID_FILE: join(stateDir, "machine-id"),
        CAPSTAN_METRICS_INTERVAL_MS: "200",
        CAPSTAN_REPORT_INTERVAL_MS: "300",
        CAPSTAN_AGENT_LOG_LEVEL: "warn",
      };
      /** The host's CPU sample times, oldest first. */
      const times = async () =>
        (await allRawRows(s.db, host.id)).filter((r) =>
          r.key === "cpu.total_pct" && !r.container_id
        )
          .map((r) => r.t);
      const epochs = async () =>
        (await s.db.selectFrom("metric_batches").select("epoch").distinct()
          .where("host_id", "=", host.id).execute()).map((r) => r.epoch);

      agent = spawnAgent(env);
      // A long first run: its seqs reach 40, so an old hub would drop the next 40 batches.
      await until("forty batches", async () => {
        const r = await s.db.selectFrom("metric_batches").select((eb) => eb.fn.max("seq").as("m"))
          .where("host_id", "=", host.id).executeTakeFirst();
        return Number(r?.m ?? -1) >= 40;
      }, 90_000);
      assert.equal((await agent.stop()).code, 0);
      agent = undefined;
      // The state dir's spool is wiped; the token stays (the host is still enrolled).
      await Deno.remove(join(stateDir, "metrics-spool"), { recursive: true });

      const restartAt = Date.now();
      agent = spawnAgent(env);
      await until(
        "the new spool's later samples",
        async () => (await times()).some((t) => t > restartAt + 8000),
        90_000,
      );
      assert.equal((await agent.stop()).code, 0, agent.output());
      agent = undefined;
      // Its first seconds (seq 0, 1, … again) are stored too, not taken for the old batches.
      const early = (await times()).filter((t) => t >= restartAt && t <= restartAt + 8000);
      assert.ok(early.length >= 10, `samples of the new spool's first batches (${early.length})`);

      assert.equal((await epochs()).length, 2, "two epochs, each numbered from 0");
      assert.ok(
        logged.some((l) => /^warn metrics: the agent's spool epoch changed/.test(l)),
        logged.join("\n"),
      );
      const notes = await s.metrics.notes(hostView((await s.hosts.byId(host.id))!, true), true);
      assert.ok(notes.some((n) => n.kind === "epoch"), "the host page mentions the new spool");
    } finally {
      await agent?.stop();
      await hub.stop();
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
