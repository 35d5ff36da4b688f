/**
 * The Docker resource pages in a real browser against a real hub and engine: the containers list
 * updates a badge live when a container stops outside Capstan, the create form shows per-field
 * errors, the pull island draws per-layer progress from a (fake, loopback) registry and shows a
 * failed pull's error, and every page fits desktop and phone widths. Screenshots go to
 * tests/artifacts/.
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
import { attachTestAgent, runTestContainer } from "./support/agent.ts";
import { startFakeRegistry } from "./support/fake_registry.ts";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const SUITE = "docker-browser";

const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: docker browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: containers live badge, create form, pull progress, networks and volumes",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("docker-browser");
    const agent = await attachTestAgent(services, org.id, "docker-1");
    const docker = agent.docker;
    const labels = testLabels(SUITE);
    const slow = await startFakeRegistry({
      repo: "capstan-test/slow-app",
      labels,
      layerBytes: 6 * 1024 * 1024,
      chunk: 16 * 1024,
      delayMs: 60,
    });
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      // Some containers to look at: two running (one publishing a port), one exited.
      const run = (what: string, spec: Record<string, unknown> = {}, start = true) =>
        runTestContainer(agent, SUITE, what, { spec, start });
      const web = await run("web", { ports: [{ container_port: 80, host_port: 0 }] });
      await run("worker");
      await run("migrate", {}, false);
      await docker.createVolume({ name: testName(SUITE, "pgdata"), labels });
      await docker.createNetwork({
        name: testName(SUITE, "backend"),
        subnet: `10.214.${Math.floor(Math.random() * 250)}.0/24`,
        labels,
      });

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);

      // Containers: filter to this suite, go live, then stop one outside Capstan.
      await page.goto(`${hub.url}/o/acme/containers?label=capstan.test.suite%3D${SUITE}`);
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });
      const badge = page.locator(`[data-container-state="${web.id}"] .badge`);
      assert.equal(await badge.innerText(), "running");
      await shot(page, "containers-desktop");
      await shot(page, "containers-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await docker.stopContainer(web.id, { t: 1 });
      await page.waitForFunction(
        (id) =>
          document.querySelector(`[data-container-state="${id}"] .badge`)?.textContent ===
            "exited",
        web.id,
        { timeout: 15_000 },
      );
      assert.match(await badge.getAttribute("class") ?? "", /badge-error/);
      // The status line under the badge follows it (it said "Up …" when the page was drawn).
      assert.equal(
        await page.locator(`[data-container-status="${web.id}"]`).innerText(),
        "Exited Less than a second ago",
      );

      // The create form: admins see the advanced fieldset; errors are per field, input kept.
      await page.goto(`${hub.url}/o/acme/containers/new`);
      await shot(page, "container-new-desktop");
      await shot(page, "container-new-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.getByLabel("Image").fill(TEST_IMAGE);
      await page.getByLabel("Name", { exact: true }).fill("bad name");
      await page.getByLabel("Ports").fill("8080:80/tcp\nhttp");
      await Promise.all([
        page.waitForLoadState("load"),
        page.getByRole("button", { name: "Create container" }).click(),
      ]);
      assert.match(await page.locator("#c-ports-error").innerText(), /Line 2/);
      assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "bad name");
      await shot(page, "container-new-errors-desktop");

      // Images: a pull from the slow registry shows per-layer progress as it goes.
      await page.goto(`${hub.url}/o/acme/images`);
      await page.waitForSelector(
        'capstan-island[data-island="PullProgress"][data-hydrated="true"]',
      );
      await page.getByLabel("Image to pull").fill(slow.ref);
      await page.getByRole("button", { name: "Pull" }).click();
      await page.waitForFunction(
        () => {
          const p = document.querySelector(".pull-layers progress") as HTMLProgressElement | null;
          return p !== null && p.value >= 10;
        },
        null,
        { timeout: 20_000 },
      );
      await shot(page, "images-pull-progress-desktop");
      await shot(page, "images-pull-progress-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      // Cancel it, then a pull that fails: the engine's error is shown under the field.
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.getByLabel("Image to pull").fill("127.0.0.1:9/capstan-test/absent:latest");
      await page.getByRole("button", { name: "Pull" }).click();
      await page.locator("#pull-error").waitFor({ timeout: 20_000 });
      assert.match(await page.locator("#pull-error").innerText(), /Cannot pull 127\.0\.0\.1:9/);
      await shot(page, "images-pull-failed-desktop");
      await shot(page, "images-phone", PHONE);

      await page.goto(`${hub.url}/o/acme/networks`);
      assert.ok(await page.getByText("protected").first().isVisible());
      await shot(page, "networks-desktop");
      await shot(page, "networks-phone", PHONE);
      await page.goto(`${hub.url}/o/acme/volumes?sizes=1`);
      await shot(page, "volumes-desktop");
      await shot(page, "volumes-phone", PHONE);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await agent.stop();
      await slow.close();
      await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
      docker.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
