/**
 * The host page's "Agent updates" panel in Chromium: a rolled-back update shows as an alert and in
 * the history; "Update agent" asks the real connected agent (agent/main.ts, self-update enabled)
 * to check now. Screenshots at desktop and phone widths.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";
import {
  addOwner,
  ARTIFACTS,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  PHONE,
  shot,
  signIn,
} from "./support/browser.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const why = chromiumMissing();
if (why && !IN_CI) console.log(`note: agent update browser test ignored: ${why}`);

Deno.test({
  name:
    "[e2e] browser: host page shows a rolled-back agent update, and Update agent asks the connected agent to check",
  ignore: Boolean(why) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const root = await Deno.makeTempDir({ prefix: "capstan-update-browser-" });
    const hub = await startHub(
      loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: root, CAPSTAN_LOCAL_AGENT: "0" }),
      { jobs: false, log: silentLogger },
    );
    const s = hub.services;
    await addOwner(s);
    const org = (await s.orgs.bySlug("acme"))!;
    const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "edge-7" });
    const context = await launchBrowser(join(root, "profile"), DESKTOP);
    let agent: Deno.ChildProcess | undefined;
    try {
      // The real agent, connected, with self-update on (its install dir exists, no release yet).
      await Deno.mkdir(join(root, "opt/versions"), { recursive: true });
      await Deno.writeTextFile(join(root, "machine-id"), "browser0update0machine00000001\n");
      agent = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", join(ROOT, "deno.json"), join(ROOT, "agent/main.ts")],
        env: {
          CAPSTAN_HUB_URL: hub.url,
          CAPSTAN_ENROLL_TOKEN: enrollment.token,
          CAPSTAN_AGENT_DIR: join(root, "state"),
          CAPSTAN_MACHINE_ID_FILE: join(root, "machine-id"),
          CAPSTAN_AGENT_INSTALL_DIR: join(root, "opt"),
          CAPSTAN_METRICS_INTERVAL_MS: "0",
          CAPSTAN_UPDATE_INTERVAL_MS: "0",
          CAPSTAN_RELEASE_PUBLIC_KEYS: "",
        },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      for (let i = 0; i < 200 && !s.agents.isOnline(host.id); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(s.agents.isOnline(host.id), "the agent connected");

      // Its history: one good update, then one that rolled itself back.
      const report = (
        from: string,
        to: string,
        outcome: "succeeded" | "rolled_back",
        message: string,
      ) =>
        s.releases.recordOutcome({ id: host.id, org_id: org.id, name: "edge-7" }, {
          from_version: from,
          to_version: to,
          outcome,
          message,
          rollout_id: null,
        });
      await report(
        "0.1.0",
        "0.2.0",
        "succeeded",
        "capstan-agent 0.2.0 connected and confirmed its health in 2 s",
      );
      await new Promise((r) => setTimeout(r, 5));
      await report(
        "0.2.0",
        "0.3.0",
        "rolled_back",
        "capstan-agent 0.3.0 exited before confirming its health; restored 0.2.0",
      );

      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);
      await page.goto(`${hub.url}/o/acme/hosts/${host.id}`);
      const panel = page.locator("#agent-update");
      assert.match(
        await panel.locator(".alert").first().innerText(),
        /update to 0\.3\.0 rolled back: capstan-agent 0\.3\.0 exited before confirming/,
      );
      assert.equal(await panel.locator("dl.props dt").count(), 2);
      assert.equal(await panel.locator(".badge").first().innerText(), "rolled back");
      await shot(page, "agent-update-panel-desktop", DESKTOP);
      await shot(page, "agent-update-panel-phone", PHONE);

      await page.setViewportSize(DESKTOP);
      await Promise.all([
        page.waitForURL(/agent_update=requested/),
        panel.getByRole("button", { name: "Update agent" }).click(),
      ]);
      assert.match(
        await page.locator("#agent-update .alert").first().innerText(),
        /The agent is checking for an update/,
      );
      const audit = await s.audit.list({ action: "host.agent_update_requested", limit: 5 });
      assert.equal(audit.rows[0]?.status, "ok");
      await shot(page, "agent-update-requested", DESKTOP);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      try {
        agent?.kill("SIGTERM");
        await agent?.status;
      } catch {
        // Already gone.
      }
      await hub.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
