/**
 * Apps in a real browser on the real engine: a real hub (port 0, SQLite in a temp dir, islands
 * built) whose embedded agent drives the local engine, already a single-node swarm manager.
 * Chromium signs in as a platform admin, creates the cluster from Settings → Cluster (the engine is
 * in a swarm, so it is adopted after the confirmation), creates an app from the form — busybox
 * httpd, 2 replicas, its port published in host mode — and watches it become running without a
 * reload; asks a task's published port; deploys a change through the edit form and watches that
 * go running live; rolls back to #1 from the timeline; and deletes the app by typing its name.
 * Screenshots at desktop and phone widths go to tests/artifacts/. The app's services and networks
 * are removed at the end, also when a step fails.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { cleanupApps } from "./support/apps.ts";
import {
  ADA,
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

const SUITE = "apps-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: apps browser test ignored: ${missing}`);

/** A busybox httpd answering "<greeting> from <task>", healthy once its page exists. */
const COMMAND = [
  "sh",
  "-c",
  // sh as PID 1 with a trap stops at once on SIGTERM (httpd as PID 1 would ignore it for 10 s).
  'trap "exit 0" TERM; echo "serving $GREETING"; mkdir -p /www && echo "$GREETING from $(hostname)" > /www/index.html && httpd -f -p 80 -h /www & wait',
].join("\n");

/** Waits until deployment `n`'s badge in the timeline says `status` (rewritten live). */
async function deploymentStatus(page: Page, n: number, status: string, timeout = 120_000) {
  await page.waitForSelector(
    `tr[data-deployment="${n}"] [data-deployment-status][data-status="${status}"]`,
    { timeout },
  );
}

/** The published ports the app page shows for running tasks (`127.0.0.1:32768→80`). */
async function publishedPorts(page: Page): Promise<number[]> {
  const texts = await page.locator(
    '.tasks-table tr[data-state="running"][data-desired="running"] td code',
  )
    .allTextContents();
  return texts.map((t) => Number(/:(\d+)→/.exec(t)?.[1])).filter((n) => n > 0);
}

/** What a task answers on its published port. */
async function ask(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.text()).trim();
}

Deno.test({
  name:
    "[e2e] [docker] browser: create the cluster from Settings, an app from the form (2 replicas, host-mode port) running live, deploy a change, roll back from the timeline, delete by name, screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE, {
      CAPSTAN_LOCAL_AGENT: "1",
    });
    const docker = createDockerClient({ timeoutMs: 60_000 });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    const name = `web-${crypto.randomUUID().slice(0, 6)}`;
    try {
      // Ada is a platform admin: Settings → Cluster is theirs.
      await services.db.updateTable("users").set({ is_admin: 1 }).where("email", "=", ADA.email)
        .execute();
      const host = await eventually(
        async () => {
          const h = (await services.hosts.list(org.id)).find((x) => services.agents.isOnline(x.id));
          return h;
        },
        "the embedded agent's host online",
        30_000,
      );

      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);

      // No cluster: the Workers page says where to create it.
      await page.goto(`${hub.url}/o/acme/workers`);
      await page.getByText("There is no cluster yet").waitFor();
      await shot(page, "apps-workers-empty-desktop");

      // Settings → Cluster: the engine is a swarm manager already, so creating adopts it.
      await page.getByRole("link", { name: "Settings → Cluster" }).click();
      await page.getByRole("heading", { name: `Create cluster on ${host.name}` }).waitFor();
      assert.equal(await page.getByLabel("Advertise address").inputValue(), "127.0.0.1");
      await page.getByText("is already a manager of a swarm").waitFor();
      await shot(page, "apps-cluster-create-desktop");
      await shot(page, "apps-cluster-create-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.getByRole("button", { name: `Create cluster on ${host.name}` }).click();
      await page.getByRole("heading", { name: `Adopt the swarm of ${host.name}?` }).waitFor();
      await shot(page, "apps-cluster-adopt-desktop");
      await Promise.all([
        page.waitForURL(/\/settings\/cluster\?done=created$/),
        page.getByRole("button", { name: "Adopt this swarm" }).click(),
      ]);
      await page.getByText("The cluster is ready").waitFor();
      assert.match(await page.locator('[data-fact="routing-mesh"]').innerText(), /^(On|Off):/);
      await shot(page, "apps-cluster-desktop");
      await shot(page, "apps-cluster-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Workers: the node, ready and active.
      await page.goto(`${hub.url}/o/acme/workers`);
      await page.locator("tr[data-node] td").first().waitFor();
      assert.match(await page.locator(".workers-table tbody").innerText(), /ready/);
      // The embedded agent's heartbeat: seconds old, healthy.
      const beat = await page.locator(".workers-table td[data-label=Heartbeat]").first()
        .innerText();
      assert.match(beat, /^\s*\d+ (s|min) ago$/, beat);
      await shot(page, "apps-workers-desktop");
      await shot(page, "apps-workers-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Apps: empty, then the form.
      await page.goto(`${hub.url}/o/acme/apps`);
      await page.getByText("No apps yet").waitFor();
      await shot(page, "apps-empty-desktop");
      await page.getByRole("link", { name: "New app" }).first().click();
      await page.getByRole("heading", { name: "New app" }).waitFor();
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Image").fill(TEST_IMAGE);
      await page.getByLabel("Replicas").fill("2");
      await page.locator("#app-command").fill(COMMAND);
      await page.getByLabel("Environment", { exact: true }).fill("GREETING=hello");
      await page.getByLabel("Ports", { exact: true }).fill("80");
      await page.locator("#app-health_cmd").fill("test\n-f\n/www/index.html");
      await page.getByLabel("Every (seconds)").fill("1");
      await shot(page, "apps-new-desktop");
      await shot(page, "apps-new-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await Promise.all([
        page.waitForURL(new RegExp(`/o/acme/apps/${name}\\?done=created$`)),
        page.getByRole("button", { name: "Create and deploy" }).click(),
      ]);

      // Running, live: the badge of #1 turns running without a reload; both tasks run.
      await page.waitForSelector('.app-services .live[data-state="live"]', { timeout: 15_000 });
      await mark(page);
      const t0 = Date.now();
      await deploymentStatus(page, 1, "running");
      console.log(
        `deployment #1 running on the page ${Date.now() - t0} ms after the page was live`,
      );
      await page.waitForFunction(
        () =>
          document.querySelectorAll('.tasks-table tr[data-state="running"][data-desired="running"]')
            .length === 2,
        undefined,
        { timeout: 30_000 },
      );
      assert.ok(await stayed(page), "running without a reload");
      const ports = await publishedPorts(page);
      assert.equal(ports.length, 2, "each task shows its published port");
      assert.match(await ask(ports[0]), /^hello from /);
      await shot(page, "apps-app-desktop");
      await shot(page, "apps-app-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Live logs on the app page: the containers' viewer, every task's lines marked with task
      // and node (the page loaded before the tasks existed, so it is loaded again).
      await page.reload();
      await page.waitForSelector('capstan-island[data-island="LogViewer"][data-hydrated="true"]');
      await page.locator(".app-logs .log-line", { hasText: "serving hello" }).first().waitFor({
        timeout: 20_000,
      });
      const sources = await page.locator(".app-logs .log-line .log-src").allTextContents();
      assert.ok(sources.some((s) => /^[a-z0-9-]+\.\d+@\S+$/.test(s)), sources.join(", "));
      await shot(page, "apps-logs-desktop");
      await shot(page, "apps-logs-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // The list: the app with 2/2.
      await page.goto(`${hub.url}/o/acme/apps`);
      await page.locator(`tr[data-app-row="${name}"]`).waitFor();
      assert.match(await page.locator(`tr[data-app-row="${name}"]`).innerText(), /2\/2/);
      await shot(page, "apps-list-desktop");
      await shot(page, "apps-list-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Deploy a change: the edit form, "Save and deploy", #2 running live.
      await page.locator(`tr[data-app-row="${name}"] a`).first().click();
      await page.getByRole("link", { name: "Edit" }).click();
      await page.getByLabel("Environment", { exact: true }).fill("GREETING=bonjour");
      await shot(page, "apps-edit-desktop");
      await Promise.all([
        page.waitForURL(new RegExp(`/o/acme/apps/${name}\\?done=deployed$`)),
        page.getByRole("button", { name: "Save and deploy" }).click(),
      ]);
      await page.waitForSelector('.app-services .live[data-state="live"]', { timeout: 15_000 });
      await mark(page);
      await deploymentStatus(page, 2, "running");
      assert.ok(await stayed(page), "the change went running without a reload");
      await eventually(
        async () => {
          const p = await publishedPorts(page);
          return p.length === 2 && (await ask(p[0])).startsWith("bonjour") || undefined;
        },
        "the new version answering",
        30_000,
      );

      // Its diff names the environment key, never its value.
      await page.locator('tr[data-deployment="2"] a', { hasText: "Diff" }).click();
      await page.getByRole("heading", { name: "Changes since #1" }).waitFor();
      assert.match(await page.locator('[data-diff-field="env"]').innerText(), /changed GREETING/);
      await shot(page, "apps-diff-desktop");
      await shot(page, "apps-diff-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Roll back to #1 from the timeline, with the confirmation.
      await page.goto(`${hub.url}/o/acme/apps/${name}`);
      await page.locator('tr[data-deployment="1"] a', { hasText: "Roll back to this" }).click();
      await page.getByRole("heading", { name: `Roll ${name} back to deployment #1?` }).waitFor();
      await shot(page, "apps-rollback-confirm-desktop");
      await Promise.all([
        page.waitForURL(new RegExp(`/o/acme/apps/${name}\\?done=rolled_back$`)),
        page.getByRole("button", { name: "Roll back to #1" }).click(),
      ]);
      await page.waitForSelector('.app-services .live[data-state="live"]', { timeout: 15_000 });
      await deploymentStatus(page, 3, "running");
      assert.match(
        await page.locator('tr[data-deployment="3"]').innerText(),
        /rollback to #1/,
      );
      await eventually(
        async () => {
          const p = await publishedPorts(page);
          return p.length === 2 && (await ask(p[0])).startsWith("hello") || undefined;
        },
        "the first version answering again",
        30_000,
      );
      // The page afresh: the timeline has the rollback; the logs show both tasks' lines.
      await page.reload();
      await page.getByText("Deployment #3 is running").waitFor();
      await page.locator(".app-logs .log-line", { hasText: "serving hello" }).first().waitFor();
      await shot(page, "apps-app-rolled-back-desktop");
      await shot(page, "apps-app-rolled-back-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Migration policy: manual, from the edit page, pins the service where it runs (deployment
      // #4, followed live); the app page shows the pin and offers "Move to" with a confirmation.
      await page.getByRole("link", { name: "Edit", exact: true }).click();
      await page.getByLabel(/^Manual/).check();
      await page.locator("#policy-title").scrollIntoViewIfNeeded();
      await shot(page, "apps-policy-desktop", DESKTOP, 0, { fullPage: false });
      await Promise.all([
        page.waitForURL(/\?done=policy_deployed$/),
        page.getByRole("button", { name: "Save policy" }).click(),
      ]);
      await deploymentStatus(page, 4, "running");
      await page.reload();
      const pin = await page.locator("[data-pin]").first().innerText();
      assert.ok(pin && !/next deployment/.test(pin), pin);
      await shot(page, "apps-placement-desktop");
      await shot(page, "apps-placement-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.getByRole("button", { name: "Move…" }).click();
      await page.getByRole("heading", { name: new RegExp(`^Move \\S+ to ${pin}\\?$`) }).waitFor();
      await shot(page, "apps-move-confirm-desktop");
      await page.getByRole("link", { name: "Cancel" }).click();
      await page.locator("#placement-title").waitFor();

      // Delete: the name must be typed.
      await page.getByRole("link", { name: "Delete app…" }).click();
      await page.getByLabel(`Type ${name} to confirm`).fill("wrong");
      const before = errors.length;
      await page.getByRole("button", { name: "Delete app" }).click();
      await page.getByText(`Type the app's name, ${name}, exactly`).waitFor();
      // The refusal answers 400, which Chromium reports as a failed load: that one is meant.
      errors.splice(before).filter((e) => !/status of 400/.test(e)).forEach((e) => errors.push(e));
      await shot(page, "apps-delete-desktop");
      await shot(page, "apps-delete-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.getByLabel(`Type ${name} to confirm`).fill(name);
      await Promise.all([
        page.waitForURL(/\/o\/acme\/apps\?done=deleted$/),
        page.getByRole("button", { name: "Delete app" }).click(),
      ]);
      await page.getByText("App deleted.").waitFor();
      assert.equal(await page.locator(`tr[data-app-row="${name}"]`).count(), 0);
      await eventually(
        async () =>
          (await docker.listServices()).every((s) => s.Spec.Labels["capstan.org"] !== org.id) ||
          undefined,
        "the app's services gone",
        30_000,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await services.apps.idle().catch(() => {});
      await hub.stop();
      await cleanupApps(docker, [org.id], SUITE).finally(() => docker.close());
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
