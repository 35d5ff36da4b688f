/**
 * The containers page in a real browser while someone runs `docker exec` in a listed container:
 * the row stays, live and after a reload, with no "containers changed" notice (an exec changes
 * nothing the page shows). Screenshot in tests/artifacts/.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { attachTestAgent } from "./support/agent.ts";
import { dockerExec } from "./support/docker_exec.ts";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const SUITE = "exec-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: exec browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: a container stays on the containers page after a docker exec into it",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE);
    const agent = await attachTestAgent(services, org.id, "docker-1");
    const docker = agent.docker;
    const labels = testLabels(SUITE);
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const run = async (what: string) => {
        const name = testName(SUITE, what);
        const { id } = await agent.conn.call<{ id: string }>("container.create", {
          spec: {
            name,
            image: TEST_IMAGE,
            cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            labels,
          },
          start: true,
        });
        return { id, name };
      };
      const target = await run("target");
      const sentinel = await run("sentinel");
      const badge = (id: string) => `[data-container-state="${id}"] .badge`;

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);
      const list = `${hub.url}/o/acme/containers?label=capstan.test.suite%3D${SUITE}`;
      // Both rows running (the cache may still be catching up with the creations).
      const deadline = Date.now() + 20_000;
      for (;;) {
        await page.goto(list);
        const states = await page.locator(`${badge(target.id)}, ${badge(sentinel.id)}`)
          .allInnerTexts();
        if (states.length === 2 && states.every((s) => s === "running")) break;
        if (Date.now() > deadline) throw new Error(`rows not running: ${states}`);
        await page.waitForTimeout(200);
      }
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });

      assert.equal(await dockerExec(docker, target.id, ["sh", "-c", "echo hello"]), 0);
      // Events arrive in order: once the sentinel's badge turns, the exec's events were handled.
      await docker.killContainer(sentinel.id, "SIGKILL");
      await page.waitForFunction(
        (sel) => document.querySelector(sel)?.textContent === "exited",
        badge(sentinel.id),
        { timeout: 15_000 },
      );
      assert.equal(await page.locator(badge(target.id)).innerText(), "running");
      assert.equal(
        await page.getByText("Containers changed").count(),
        0,
        "an exec is not a change to refresh for",
      );
      await shot(page, "containers-after-exec-desktop");

      await page.reload();
      assert.equal(
        await page.locator(badge(target.id)).innerText(),
        "running",
        "still listed after a reload",
      );
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await agent.stop();
      await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
      docker.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
