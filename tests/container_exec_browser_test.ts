/**
 * The containers page in a real browser while someone runs `docker exec` in a listed container:
 * the row stays, live and after a reload, with no "containers changed" notice (an exec changes
 * nothing the page shows), and neither does a container outside the page's filter changing state
 * (other workloads' churn on a busy host). Under a state filter that same change offers the
 * refresh, since the container may now belong on the page. Screenshot in tests/artifacts/.
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
    // Listed rows carry one more label, which the page filters on; the outsider runs beside them.
    const LISTED = "capstan.test.listed";
    const labels = testLabels(SUITE);
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const run = async (what: string, listed = true) => {
        const name = testName(SUITE, what);
        const { id } = await agent.conn.call<{ id: string }>("container.create", {
          spec: {
            name,
            image: TEST_IMAGE,
            cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            labels: listed ? { ...labels, [LISTED]: SUITE } : labels,
          },
          start: true,
        });
        return { id, name };
      };
      const target = await run("target");
      const outsider = await run("outsider", false);
      const badge = (id: string) => `[data-container-state="${id}"] .badge`;

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);
      const list = `${hub.url}/o/acme/containers?label=${LISTED}%3D${SUITE}`;
      /**
       * Containers other tests created or removed on the shared engine between two moments: each
       * rightly makes the page offer a refresh, so such a window cannot tell whether the exec did.
       */
      const othersChurned = async (since: number, until: number, ours: string[]) => {
        const out = await new Deno.Command("docker", {
          args: [
            "events",
            "--since",
            String(Math.floor(since / 1000) - 1),
            "--until",
            String(Math.ceil(until / 1000) + 1),
            "--filter",
            "type=container",
            "--filter",
            "event=create",
            "--filter",
            "event=destroy",
            "--format",
            "{{.Actor.ID}}",
          ],
          stdout: "piped",
        }).output();
        const ids = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
        return ids.some((id) => !ours.includes(id));
      };
      // Neither an exec nor an unlisted container's new state may look like a change; a window
      // where another test made or removed a container is tried again (up to eight times) rather
      // than judged.
      for (let attempt = 1;; attempt++) {
        const sentinel = await run(`sentinel${attempt}`);
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
        const since = Date.now();
        assert.equal(await dockerExec(docker, target.id, ["sh", "-c", "echo hello"]), 0);
        await docker.restartContainer(outsider.id, { t: 0 });
        // Events arrive in order: once the sentinel's badge turns, the exec's and the outsider's
        // events were handled.
        await docker.killContainer(sentinel.id, "SIGKILL");
        await page.waitForFunction(
          (sel) => document.querySelector(sel)?.textContent === "exited",
          badge(sentinel.id),
          { timeout: 15_000 },
        );
        assert.equal(await page.locator(badge(target.id)).innerText(), "running");
        const banner = await page.getByText("Containers changed").count();
        if (banner === 0) break;
        const noisy = await othersChurned(since, Date.now(), [target.id, sentinel.id]);
        assert.ok(
          noisy && attempt < 8,
          "neither an exec nor an unlisted container's new state is a change to refresh for",
        );
      }
      await shot(page, "containers-after-exec-desktop");

      await page.reload();
      assert.equal(
        await page.locator(badge(target.id)).innerText(),
        "running",
        "still listed after a reload",
      );
      // Filtered on "exited", the running outsider stopping may join the page: refresh offered.
      await page.goto(`${hub.url}/o/acme/containers?state=exited`);
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });
      await docker.killContainer(outsider.id, "SIGKILL");
      await page.getByText("Containers changed").waitFor({ timeout: 15_000 });
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
