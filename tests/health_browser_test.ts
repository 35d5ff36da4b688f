/**
 * The "done when" in a real browser with the real engine: a real hub (port 0, SQLite in a
 * temp dir, islands built) and the test agent with its health runner. A busybox httpd container
 * exposes 8080; Chromium signs in, opens the container page, clicks "Add HTTP check" and "Start
 * monitoring" (two clicks, defaults untouched) and lands on the check's page, where the state turns
 * healthy and the response-time chart gets points without a reload. The check is then made faster
 * through the edit form, the container's index file is removed, and the health page's badge turns
 * unhealthy live. Screenshots at desktop and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import type { DockerClient } from "../lib/docker/client.ts";
import { attachTestAgent } from "./support/agent.ts";
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

const SUITE = "health-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: health browser test ignored: ${missing}`);

async function sh(docker: DockerClient, id: string, script: string) {
  const { id: execId } = await docker.execCreate(id, { cmd: ["sh", "-c", script] });
  for await (const _ of await docker.execStart(execId)) { /* drain */ }
}

/** Marks the page, so a later check can tell the page was not reloaded. */
const mark = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __stay: number }).__stay = 1);
const stayed = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __stay?: number }).__stay === 1);

/** Waits until the badge of check `id` shows `state`. */
async function badge(page: Page, id: string, state: string, timeout: number) {
  await page.waitForSelector(`[data-check-state="${id}"][data-state="${state}"]`, { timeout });
}

Deno.test({
  name:
    "[e2e] [docker] browser: two clicks attach an HTTP check, healthy with chart points live, unhealthy live on the health page, screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("health-browser");
    const agent = await attachTestAgent(services, org.id, "docker-1");
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await withDocker(SUITE, async (docker) => {
        const name = testName(SUITE, "web");
        const { id: ctrId } = await agent.conn.call<{ id: string }>("container.create", {
          spec: {
            name,
            image: TEST_IMAGE,
            cmd: [
              "sh",
              "-c",
              "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
            ],
            ports: [{ container_port: 8080 }],
            labels: testLabels(SUITE),
          },
          start: true,
        });
        const until = Date.now() + 15_000;
        while (
          !await services.db.selectFrom("containers").select("id").where("id", "=", ctrId)
            .executeTakeFirst()
        ) {
          if (Date.now() > until) throw new Error("the container never reached the hub's cache");
          await new Promise((r) => setTimeout(r, 100));
        }

        context = await launchBrowser(profile, DESKTOP);
        const page = context.pages()[0] ?? await context.newPage();
        page.on("pageerror", (e) => errors.push(String(e)));
        // Docker adding a veth for the container makes Chromium drop requests in flight with
        // ERR_NETWORK_CHANGED; that is the machine, not the page.
        page.on(
          "console",
          (m) =>
            m.type() === "error" && !m.text().includes("ERR_NETWORK_CHANGED") &&
            errors.push(m.text()),
        );
        await signIn(page, hub.url);

        // The container page: not monitored yet.
        await page.goto(`${hub.url}/o/acme/containers/${agent.host.id}/${ctrId}`);
        await page.getByText("Not monitored yet.").waitFor();
        await shot(page, "health-container-empty-desktop");

        // Click 1: the form, prefilled.
        let clicks = 0;
        await Promise.all([
          page.waitForURL(/\/o\/acme\/health\/new\?/),
          page.getByRole("link", { name: "Add HTTP check" }).click().then(() => clicks++),
        ]);
        assert.equal(await page.getByLabel("Port").inputValue(), "8080");
        assert.equal(await page.getByLabel("Path").inputValue(), "/");
        assert.equal(await page.getByLabel("Every (seconds)").inputValue(), "30");
        await shot(page, "health-new-desktop");
        await shot(page, "health-new-phone", PHONE);
        await page.setViewportSize(DESKTOP);

        // Click 2: start monitoring, land on the check.
        await Promise.all([
          page.waitForURL(/\/o\/acme\/health\/[0-9a-f-]{36}\?done=created$/),
          page.getByRole("button", { name: "Start monitoring" }).click().then(() => clicks++),
        ]);
        assert.equal(clicks, 2, "two clicks from the container page to a running check");
        const checkId = /health\/([0-9a-f-]{36})/.exec(page.url())![1];
        await page.waitForSelector('.health-chart-card .live[data-state="live"]', {
          timeout: 15_000,
        });
        await mark(page);
        const started = Date.now();
        // The first attempt falls on the check's 30 s grid; the chart follows without a reload.
        await badge(page, checkId, "healthy", 45_000);
        console.log(`first result to healthy badge: ${Date.now() - started} ms after landing`);
        await page.waitForFunction(
          () => Number(document.querySelector(".health-chart")?.getAttribute("data-points")) >= 1,
          undefined,
          { timeout: 10_000 },
        );
        assert.ok(await stayed(page), "healthy and chart points without a reload");
        await shot(page, "health-detail-desktop");
        await shot(page, "health-detail-phone", PHONE);
        await page.setViewportSize(DESKTOP);

        // Ranges switch in place.
        await page.locator('.range-picker a[data-range="24h"]').click();
        await page.waitForSelector('.health-chart[data-range="24h"]', { timeout: 5_000 });
        assert.ok(await stayed(page), "the range switched without a reload");

        // Faster, through the edit form (2 s interval, 1 s timeout); the state starts over.
        await page.getByRole("link", { name: "Edit" }).click();
        await page.getByLabel("Every (seconds)").fill("2");
        await page.getByLabel("Timeout (seconds)").fill("1");
        await Promise.all([
          page.waitForURL(/\?done=saved$/),
          page.getByRole("button", { name: "Save check" }).click(),
        ]);
        assert.match(await page.locator(".props").innerText(), /every 2 s/);

        // The health page: healthy, then the page goes and the badge turns unhealthy live.
        await page.goto(`${hub.url}/o/acme/health`);
        await page.waitForSelector('.page-header .live[data-state="live"]', { timeout: 15_000 });
        await badge(page, checkId, "healthy", 20_000);
        await mark(page);
        await sh(docker, ctrId, "rm /www/index.html");
        const broke = Date.now();
        await badge(page, checkId, "unhealthy", 20_000);
        console.log(
          `index removed to unhealthy badge (retries 2, every 2 s): ${Date.now() - broke} ms`,
        );
        assert.ok(await stayed(page), "the badge turned without a reload");
        assert.match(
          await page.locator(`[data-check-state="${checkId}"] .badge`).getAttribute("class") ?? "",
          /badge-error/,
        );
        await page.reload();
        await shot(page, "health-list-desktop");
        await shot(page, "health-list-phone", PHONE);
        await page.setViewportSize(DESKTOP);

        // The detail page with failures in its history and chart; the container page lists it.
        await page.goto(`${hub.url}/o/acme/health/${checkId}`);
        await page.getByText("HTTP 404").first().waitFor();
        await shot(page, "health-detail-failing-desktop");
        await shot(page, "health-detail-failing-phone", PHONE);
        await page.setViewportSize(DESKTOP);
        await page.goto(`${hub.url}/o/acme/containers/${agent.host.id}/${ctrId}`);
        await badge(page, checkId, "unhealthy", 5_000);
        await shot(page, "health-container-desktop");
        await shot(page, "health-container-phone", PHONE);
        assert.deepEqual(errors, []);
      });
    } finally {
      await context?.close().catch(() => {});
      await agent.stop();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
