/**
 * The hub's own host across a hub restart: the embedded agent runs inside the hub process, so it
 * cannot sample while the hub is dead — but the gap in its metrics must be only the time the
 * process was really down. The hub (`main.ts`, a subprocess) is killed with SIGKILL several seconds
 * after a batch was stored, then started again; the gap is measured against the time from the kill
 * until the new hub answered /healthz.
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
/** Sampling resumes within this of the new hub answering, and no more than this is lost before the kill. */
const SLACK_MS = 3000;

Deno.test({
  name:
    "[e2e] embedded agent: after a hub killed with SIGKILL and restarted, its metrics gap is only the time the hub was down",
  ignore: dockerTestsIgnored("embedded-restart"),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-embedded-restart-" });
    const dbFile = join(dataDir, "capstan.db");
    // An organization exists, so the embedded agent attaches the local host at once.
    const seed = openDatabase(`sqlite:${dbFile}`);
    await migrateToLatest(seed.db);
    await testServices(seed).orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
    await seed.close();

    const port = freePort();
    const spawnHub = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts"],
        cwd: ROOT,
        env: { CAPSTAN_PORT: String(port), CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOG_LEVEL: "warn" },
        stdout: "null",
        stderr: "null",
      }).spawn();
    const healthy = () => hubHealthy(port);
    /** The local host's CPU sample times, oldest first (read beside the running hub; WAL). */
    const times = async () => {
      const d = openDatabase(`sqlite:${dbFile}`);
      try {
        const local = await d.db.selectFrom("hosts").select("id").where("local", "=", 1)
          .execute();
        const rows = (await Promise.all(local.map((h) => allRawRows(d.db, h.id)))).flat();
        return rows.filter((r) => r.container_id === "" && r.key === "cpu.total_pct")
          .map((r) => r.t).sort((a, b) => a - b);
      } finally {
        await d.close();
      }
    };

    let hub = spawnHub();
    try {
      await until("the hub's own host reporting", async () => (await times()).length >= 5, 90_000);
      // Kill it a while after a batch was stored: samples it had not handed on yet die with it.
      const stored = (await times()).length;
      await until("a new batch", async () => (await times()).length > stored, 30_000, 100);
      await new Promise((r) => setTimeout(r, 6000));
      hub.kill("SIGKILL");
      await hub.status;
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 3000));
      hub = spawnHub();
      await until("the hub back", healthy, 90_000, 100);
      const readyAt = Date.now();
      await until(
        "samples after the restart",
        async () => (await times()).filter((t) => t > readyAt).length >= 3,
        30_000,
        100,
      );
      const ts = await times();
      assert.equal(new Set(ts).size, ts.length, "no sample twice");
      const lastBefore = Math.max(...ts.filter((t) => t <= killedAt));
      const firstAfter = Math.min(...ts.filter((t) => t > killedAt));
      const gap = firstAfter - lastBefore;
      const down = readyAt - killedAt;
      console.log(
        `  gap ${gap} ms; hub down ${down} ms (kill → /healthz); lost before the kill ${
          killedAt - lastBefore
        } ms; sampling resumed ${firstAfter - killedAt} ms after the kill`,
      );
      assert.ok(
        killedAt - lastBefore <= SLACK_MS,
        `at most ${SLACK_MS} ms of samples die with the hub (${killedAt - lastBefore} ms)`,
      );
      assert.ok(
        gap <= down + SLACK_MS,
        `the gap (${gap} ms) is the time the hub was down (${down} ms), not more`,
      );
    } finally {
      try {
        hub.kill("SIGKILL");
      } catch { /* already gone */ }
      await hub.status;
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
