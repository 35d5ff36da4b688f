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
import { attachTestAgent, type TestAgent } from "./support/agent.ts";
import type { Services } from "../services.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  mark,
  openPage,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
  stayed,
} from "./support/browser.ts";

const SUITE = "health-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: health browser test ignored: ${missing}`);

async function sh(docker: DockerClient, id: string, script: string) {
  const { id: execId } = await docker.execCreate(id, { cmd: ["sh", "-c", script] });
  for await (const _ of await docker.execStart(execId)) { /* drain */ }
}

/** Creates and starts a container through the agent and waits until the hub's cache has it. */
async function cachedContainer(
  agent: TestAgent,
  services: Services,
  spec: Record<string, unknown>,
): Promise<string> {
  const { id } = await agent.conn.call<{ id: string }>("container.create", { spec, start: true });
  const until = Date.now() + 15_000;
  while (
    !await services.db.selectFrom("containers").select("id").where("id", "=", id)
      .executeTakeFirst()
  ) {
    if (Date.now() > until) throw new Error("the container never reached the hub's cache");
    await new Promise((r) => setTimeout(r, 100));
  }
  return id;
}

/**
 * A browser test on a real hub with the test agent ("docker-1") on the real engine, Chromium
 * signed in as Ada: `fn` gets them all; the page's errors must stay empty. Everything is cleaned up.
 */
function browserTest(
  name: string,
  hubName: string,
  fn: (x: {
    hub: Awaited<ReturnType<typeof startBrowserHub>>["hub"];
    services: Services;
    org: { id: string };
    agent: TestAgent;
    docker: DockerClient;
    page: Page;
  }) => Promise<void>,
) {
  Deno.test({
    name,
    ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { hub, services, org, dataDir, profile } = await startBrowserHub(hubName);
      const agent = await attachTestAgent(services, org.id, "docker-1");
      let context: BrowserContext | undefined;
      const errors: string[] = [];
      try {
        await withDocker(SUITE, async (docker) => {
          context = await launchBrowser(profile, DESKTOP);
          const page = await openPage(context, errors);
          await signIn(page, hub.url);
          await fn({ hub, services, org, agent, docker, page });
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
}

/** Waits until the badge of check `id` shows `state`. */
async function badge(page: Page, id: string, state: string, timeout: number) {
  await page.waitForSelector(`[data-check-state="${id}"][data-state="${state}"]`, { timeout });
}

browserTest(
  "[e2e] [docker] browser: two clicks attach an HTTP check, healthy with chart points live, unhealthy live on the health page, screenshots",
  "health-browser",
  async ({ hub, services, agent, docker, page }) => {
    const ctrId = await cachedContainer(agent, services, {
      name: testName(SUITE, "web"),
      image: TEST_IMAGE,
      cmd: [
        "sh",
        "-c",
        "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
      ],
      ports: [{ container_port: 8080 }],
      labels: testLabels(SUITE),
    });

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
  },
);

browserTest(
  "[e2e] [docker] browser: a check whose container was removed says so; removing a container offers to pause or delete its checks",
  "health-orphans",
  async ({ hub, services, org, agent, docker, page }) => {
    /** A sleeping container in the hub's cache, with a TCP check on it. */
    const watched = async (what: string) => {
      const name = testName(SUITE, what);
      const id = await cachedContainer(agent, services, {
        name,
        image: TEST_IMAGE,
        cmd: ["sleep", "600"],
        labels: testLabels(SUITE),
      });
      const check = await services.health.service.create(SYSTEM_CTX, org.id, {
        host_id: agent.host.id,
        container: name,
        kind: "tcp",
        name: `${what} port 9`,
        tcp: { port: 9 },
      }, { role: "owner" });
      return { id, name, check };
    };
    const orphan = await watched("orphan");
    const removed = await watched("removed");

    // Removed behind Capstan's back: the check learns it from the engine's event.
    await docker.removeContainer(orphan.id, { force: true });
    const until = Date.now() + 15_000;
    while (
      (await services.health.service.get(org.id, orphan.check.id)).container_gone_at === null
    ) {
      if (Date.now() > until) throw new Error("the check never learnt its container is gone");
      await new Promise((r) => setTimeout(r, 100));
    }

    // The health list says so plainly and does not link to the missing container.
    await page.goto(`${hub.url}/o/acme/health`);
    const row = page.locator(`tr[data-check="${orphan.check.id}"]`);
    assert.equal(await row.locator(".health-state").innerText(), "container removed");
    assert.match(await row.locator(".cell-container").innerText(), /removed from docker-1/);
    assert.equal(await row.locator(`a[href*="${orphan.id}"]`).count(), 0);
    await shot(page, "health-orphan-list-desktop");
    await shot(page, "health-orphan-list-phone", PHONE);
    await page.setViewportSize(DESKTOP);

    // Its page explains, without an unhealthy state or a link to a 404.
    await row.getByRole("link", { name: orphan.check.name }).click();
    await page.getByText(`The container ${orphan.name} was removed from docker-1`).waitFor();
    assert.equal(await page.locator(`a[href*="${orphan.id}"]`).count(), 0);
    await shot(page, "health-orphan-detail-desktop");

    // Removing through Capstan: the confirmation lists the check and asks what to do.
    await page.goto(`${hub.url}/o/acme/containers/${agent.host.id}/${removed.id}`);
    await page.getByRole("link", { name: "Remove…" }).click();
    await page.getByText(removed.check.name).waitFor();
    assert.ok(await page.getByLabel(/^Pause them/).isChecked(), "pausing is the default");
    await page.getByLabel("Delete them and their history").check();
    await shot(page, "container-remove-checks-desktop");
    await shot(page, "container-remove-checks-phone", PHONE);
    await page.setViewportSize(DESKTOP);
    await Promise.all([
      page.waitForURL(/\/o\/acme\/containers\?ok=container_removed$/),
      page.getByRole("button", { name: "Remove" }).click(),
    ]);
    await page.goto(`${hub.url}/o/acme/health`);
    assert.equal(await page.locator(`tr[data-check="${removed.check.id}"]`).count(), 0);
    assert.equal(await page.locator(`tr[data-check="${orphan.check.id}"]`).count(), 1);
  },
);
