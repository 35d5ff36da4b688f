/**
 * The hosts pages in a real browser (Debian's Chromium via playwright-core) against a real hub
 * whose embedded agent reports the local engine: list, add host (install command with a working
 * copy button), host detail, remove confirmation; screenshots at desktop and phone widths under
 * tests/artifacts/, and no page wider than its viewport.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { socketExists } from "../lib/agents/embedded.ts";
import { testServices } from "./support/services.ts";
import {
  addOwner,
  ARTIFACTS,
  CHROMIUM,
  DESKTOP,
  IN_CI,
  launchBrowser,
  PHONE,
  shot,
  signIn,
} from "./support/browser.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function missing(): string | null {
  try {
    if (!Deno.statSync(CHROMIUM).isFile) return `${CHROMIUM} is not a file`;
  } catch {
    return `${CHROMIUM} not found`;
  }
  return socketExists("/var/run/docker.sock") ? null : "no Docker engine socket";
}
const why = missing();
if (why && !IN_CI) console.log(`note: hosts browser test ignored: ${why}`);

Deno.test({
  name:
    "[e2e] browser: hosts list, add host, the real agent enrolls with the shown token and the row turns online live, host detail, screenshots",
  ignore: Boolean(why) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-browser-hosts-" });
    const profile = await Deno.makeTempDir({ prefix: "capstan-chromium-" });
    const agentDir = await Deno.makeTempDir({ prefix: "capstan-browser-agent-" });
    let agent: Deno.ChildProcess | undefined;
    const hub = await startHub(
      loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "1" }),
      { jobs: false, log: silentLogger },
    );
    const dbh = openDatabase(`sqlite:${join(dataDir, "capstan.db")}`);
    const s = testServices(dbh);
    await addOwner(s);
    await dbh.close();
    const context = await launchBrowser(profile, DESKTOP);
    const errors: string[] = [];
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);

      // The embedded agent shows the local engine within a few seconds of the org existing.
      await page.goto(`${hub.url}/o/acme/hosts`);
      for (let i = 0; i < 100 && !(await page.locator(".badge-ok").count()); i++) {
        await page.waitForTimeout(100);
        if (i % 10 === 9) await page.reload();
      }
      assert.equal(await page.locator(".badge-ok").first().innerText(), "online");

      await page.getByRole("link", { name: "Add host" }).first().click();
      await page.getByLabel("Name").fill("web-1");
      await page.getByLabel("Labels").fill("env=prod\nrole=web");
      await Promise.all([
        page.waitForURL(/\/o\/acme\/hosts$/),
        page.getByRole("button", { name: "Add host" }).click(),
      ]);
      const command = await page.locator("#install-command").innerText();
      assert.match(
        command,
        /^curl -fsSL .*\/api\/v1\/agent\/install\.sh \| sudo HUB=.* TOKEN=cape_/,
      );
      await page.waitForSelector('capstan-island[data-hydrated="true"]', { timeout: 15_000 });
      await shot(page, "host-added-desktop");
      await shot(page, "host-added-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Run the real agent with the token from the page: the row turns online live, no reload.
      const token = /TOKEN=(cape_[\w-]{43})/.exec(command)![1];
      await page.goto(`${hub.url}/o/acme/hosts`);
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });
      const row = page.locator("tr", { hasText: "web-1" });
      assert.equal(await row.locator(".badge").innerText(), "waiting for agent");
      await Deno.writeTextFile(join(agentDir, "mid"), "machine-browser-0001\n");
      agent = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "agent/main.ts"],
        cwd: ROOT,
        env: {
          CAPSTAN_HUB_URL: hub.url,
          CAPSTAN_ENROLL_TOKEN: token,
          CAPSTAN_AGENT_DIR: agentDir,
          CAPSTAN_MACHINE_ID_FILE: join(agentDir, "mid"),
        },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await row.locator(".badge", { hasText: "online" }).waitFor({ timeout: 30_000 });
      agent.kill("SIGTERM");
      assert.equal((await agent.status).code, 0, "the agent stops cleanly on SIGTERM");
      agent = undefined;
      await row.locator(".badge", { hasText: "offline" }).waitFor({ timeout: 15_000 });
      await page.reload();
      await shot(page, "hosts-desktop");
      await shot(page, "hosts-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      await page.locator("tbody a").first().click();
      await page.waitForSelector("#engine-title");
      assert.match(await page.locator("dl.props").last().innerText(), /Storage driver/);
      await shot(page, "host-detail-desktop");
      await shot(page, "host-detail-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      await page.getByRole("link", { name: "Remove host…" }).click();
      await shot(page, "host-remove-phone", PHONE);
      assert.deepEqual(errors, []);
    } finally {
      if (agent) {
        agent.kill("SIGKILL");
        await agent.status;
      }
      await context.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(agentDir, { recursive: true }).catch(() => {});
    }
  },
});
