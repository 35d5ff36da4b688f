/**
 * The topology page in a real browser over a real install: a hub (port 0, SQLite, islands built)
 * whose embedded agent drives the local engine, adopted as the cluster's single node; an app of two
 * services (web with 2 replicas, db) on Swarm; a route to web; a folder backup target and a volume
 * mounted by a standalone container, snapshotted with restic through the agent.
 *
 * Chromium opens /o/acme/topology: the table lists the route, the app, its services, the host and
 * the volume with a fresh backup badge; the map draws the same nodes. The test stops the container
 * with Docker and its node turns red (data-status="down") without a reload; a snapshot of the app's
 * volume (badge "none") completes and its badge turns fresh without a reload. Zoom (keyboard and
 * buttons), the status and host filters, search and the hover neighbourhood work; the admin page
 * shows the whole install. Screenshots at desktop and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { cleanupApps, dbService, OWNER } from "./support/apps.ts";
import { ownerToken } from "./support/hub.ts";
import { storageRunEnded } from "./support/snapshots.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import {
  ADA,
  ARTIFACTS,
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

const SUITE = "topology-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: topology browser test ignored: ${missing}`);

/** The map's scale, from its transform (`translate(x y) scale(k)`). */
async function scale(page: Page): Promise<number> {
  const t = await page.locator(".topo-svg > g").getAttribute("transform");
  return Number(/scale\(([\d.]+)\)/.exec(t ?? "")?.[1]);
}

Deno.test({
  name:
    "[e2e] [docker] browser: topology of a real install (app on Swarm, route, snapshotted volume); a stopped container turns red live; zoom, filters, search; screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE, {
      CAPSTAN_LOCAL_AGENT: "1",
    });
    const docker = createDockerClient({ timeoutMs: 120_000 });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    const appName = `shop-${crypto.randomUUID().slice(0, 6)}`;
    const volume = testName(SUITE, "data");
    // The app's db mounts this one; it is snapshotted while the page is open.
    const appVolume = testName(SUITE, "db");
    try {
      await services.db.updateTable("users").set({ is_admin: 1 }).where("email", "=", ADA.email)
        .execute();
      const host = await eventually(
        async () => (await services.hosts.list(org.id)).find((x) => services.agents.isOnline(x.id)),
        "the embedded agent's host online",
        30_000,
      );
      const { token } = await ownerToken(services, "acme", "ops@example.com");
      const api = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(`${hub.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.status, body: await r.json() };
      };

      // The install: the engine adopted as the cluster, an app of two services on it.
      await services.cluster.create(SYSTEM_CTX, {
        hostId: host.id,
        advertiseAddr: "127.0.0.1",
        adopt: true,
      });
      const web = {
        ...dbService(),
        name: "web",
        replicas: 2,
      };
      const { app } = await services.apps.create(OWNER, org.id, {
        name: appName,
        spec: {
          services: [
            web,
            dbService({
              volumes: [{ name: appVolume, target: "/data" }],
              // restic refuses an empty volume.
              args: [
                "echo seed > /data/seed && mkdir -p /www && echo ready > /www/index.html && exec httpd -f -p 80 -h /www",
              ],
            }),
          ],
        },
      });
      await eventually(
        async () => {
          const s = await api("GET", `/api/v1/orgs/acme/apps/${appName}/status`);
          const svc = (s.body.services ?? []) as { running: number; desired: number }[];
          return svc.length === 2 && svc.every((x) => x.desired > 0 && x.running === x.desired) ||
            undefined;
        },
        "the app's services running",
        180_000,
      );
      // A route to web (no proxy runs here: it is stored, which is what the map shows).
      const route = await api("POST", "/api/v1/orgs/acme/routes", {
        hostnames: ["shop.capstan.test"],
        target: { kind: "app", app: appName, service: "web", port: 80 },
      });
      assert.equal(route.status, 201, JSON.stringify(route.body));

      // A volume used by a standalone container, snapshotted to a folder target.
      await docker.createVolume({ name: volume, labels: testLabels(SUITE) });
      const { id: cid } = await docker.createContainer(testName(SUITE, "box"), {
        image: TEST_IMAGE,
        cmd: ["sh", "-c", 'trap "exit 0" TERM; echo hi > /data/hello; sleep 1000000 & wait'],
        labels: testLabels(SUITE),
        volumes: [{ name: volume, target: "/data" }],
      });
      await docker.startContainer(cid);
      await services.storageTargets.create(SYSTEM_CTX, org.id, {
        kind: "filesystem",
        name: "local",
      });
      const snap = await api("POST", "/api/v1/orgs/acme/storage/snapshots", {
        host_id: host.id,
        volume,
      });
      assert.equal(snap.status, 202, JSON.stringify(snap.body));
      const done = await storageRunEnded(
        (path) => api("GET", path),
        "snapshots",
        snap.body.id,
      );
      assert.equal(done.status, "complete", done.error);

      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);

      // The nav entry leads there.
      await page.getByRole("link", { name: "Topology" }).first().click();
      await page.waitForURL(/\/o\/acme\/topology$/);

      // The table: every rank, the app, its services, the route, the host, the volume (fresh).
      const row = (id: string) => page.locator(`tr[data-node="${id}"]`);
      const taskId = `task:${cid}`;
      await eventually(
        async () => {
          await page.reload();
          return (await row(taskId).count()) > 0 || undefined;
        },
        "the container in the table",
        60_000,
      );
      for (const id of [`app:${app.id}`, `host:${host.id}`, taskId]) {
        assert.equal(await row(id).count(), 1, id);
      }
      for (const h of ["Ingress", "Apps", "Hosts", "Storage"]) {
        await page.getByRole("heading", { name: new RegExp(`^${h}`) }).first().waitFor();
      }
      assert.ok(await page.locator("tr[data-node^='route:']").count() >= 1, "the route");
      assert.ok(
        await page.locator("tr[data-node^='service:']").count() >= 2,
        "the app's two services",
      );
      const vol = page.locator(`tr[data-node="volume:${host.id}/${volume}"]`);
      assert.match(await vol.locator("td[data-label=Backup]").innerText(), /fresh/);
      assert.equal(await row(taskId).getAttribute("data-status"), "running");

      // The map: the same nodes as the table (what changed since the page was drawn may differ:
      // the map follows the patches), live.
      const tableIds = await page.locator("tr[data-node]").evaluateAll((els) =>
        els.map((e) => e.getAttribute("data-node")!)
      );
      await page.locator(`.topo-node[data-id="${taskId}"]`).waitFor({ timeout: 30_000 });
      const mapIds = await page.locator(".topo-node").evaluateAll((els) =>
        els.map((e) => e.getAttribute("data-id")!)
      );
      // Every node of the table that the graph still has (the map follows changes since).
      const now = await api("GET", "/api/v1/topology?org=acme");
      assert.equal(now.status, 200, JSON.stringify(now.body));
      const still = new Set((now.body.nodes as { id: string }[]).map((n) => n.id));
      const missingOnMap = tableIds.filter((id) => still.has(id) && !mapIds.includes(id));
      assert.deepEqual(missingOnMap, [], "the map draws the table's nodes");
      await page.locator(".topo-map .live[data-state=live]").waitFor({ timeout: 30_000 });
      const node = (id: string) => page.locator(`.topo-node[data-id="${id}"]`);
      assert.equal(await node(taskId).getAttribute("data-status"), "running");
      assert.equal(
        await node(`volume:${host.id}/${volume}`).getAttribute("data-backup"),
        "fresh",
      );
      await shot(page, "topology-desktop");

      // Stop the container: its node turns red, live.
      await mark(page);
      await docker.stopContainer(cid, { t: 1 });
      await page.locator(`.topo-node[data-id="${taskId}"][data-status="down"]`).waitFor({
        timeout: 60_000,
      });
      assert.ok(await stayed(page), "no reload");
      assert.match(
        await node(taskId).locator(".topo-stripe").evaluate((e) => getComputedStyle(e).fill),
        /rgb\(255, 123, 114\)|rgb\(198, 42, 50\)/,
        "drawn in the error colour",
      );
      await shot(page, "topology-stopped-desktop");
      // The map alone, zoomed in, to see the nodes themselves.
      await page.getByRole("button", { name: "+" }).click();
      await page.getByRole("button", { name: "+" }).click();
      await page.locator(".topo-frame").screenshot({
        path: `${ARTIFACTS}/topology-map-zoomed.png`,
      });
      await page.keyboard.press("0");
      await page.locator(".topo-frame").focus();
      await page.keyboard.press("0");

      // A snapshot of the app's volume completing turns its badge fresh, live.
      const appVol = node(`volume:${host.id}/${appVolume}`);
      assert.equal(await appVol.getAttribute("data-backup"), "none");
      const snap2 = await api("POST", "/api/v1/orgs/acme/storage/snapshots", {
        host_id: host.id,
        volume: appVolume,
      });
      assert.equal(snap2.status, 202, JSON.stringify(snap2.body));
      const done2 = await storageRunEnded(
        (path) => api("GET", path),
        "snapshots",
        snap2.body.id,
      );
      assert.equal(done2.status, "complete", done2.error);
      const server = async () =>
        JSON.stringify(
          ((await api("GET", "/api/v1/topology?org=acme")).body.nodes as { id: string }[])
            .find((n) => n.id === `volume:${host.id}/${appVolume}`),
        );
      await page.locator(
        `.topo-node[data-id="volume:${host.id}/${appVolume}"][data-backup="fresh"]`,
      ).waitFor({ timeout: 30_000 }).catch(async (err) => {
        throw new Error(`badge not fresh; the API says ${await server()}`, { cause: err });
      });
      assert.ok(await stayed(page), "no reload");

      // Zoom: buttons and keys.
      const k0 = await scale(page);
      await page.getByRole("button", { name: "+" }).click();
      const k1 = await scale(page);
      assert.ok(k1 > k0, `zoomed in: ${k0} → ${k1}`);
      await node(taskId).focus();
      await page.keyboard.press("-");
      assert.ok((await scale(page)) < k1, "- zooms out");
      await page.keyboard.press("0");
      assert.ok(Math.abs((await scale(page)) - k0) < 0.01, "0 fits again");
      // Tab reaches nodes; focus is visible.
      const outline = await node(taskId).locator(".topo-box").evaluate((e) =>
        getComputedStyle(e).strokeWidth
      );
      assert.equal(outline, "3px");

      // Filters: status down leaves the stopped container; a host filter keeps that host's part.
      const total = await page.locator(".topo-node").count();
      await page.locator("select[name=topo-status]").selectOption("down");
      await page.waitForFunction(
        (n) => document.querySelectorAll(".topo-node").length < n,
        total,
      );
      assert.equal(await node(taskId).count(), 1);
      assert.ok(
        await page.locator(".topo-node").evaluateAll((els) =>
          els.every((e) => e.getAttribute("data-status") === "down")
        ),
      );
      await page.locator("select[name=topo-status]").selectOption("");
      await page.locator("select[name=topo-app]").selectOption(`app:${app.id}`);
      await page.waitForFunction(
        (n) => document.querySelectorAll(".topo-node").length < n,
        total,
      );
      assert.equal(await node(taskId).count(), 0, "the standalone container is not the app's");
      assert.equal(await node(`app:${app.id}`).count(), 1);
      await shot(page, "topology-filtered-desktop");
      await page.locator("select[name=topo-app]").selectOption("");
      await page.waitForFunction(
        (n) => document.querySelectorAll(".topo-node").length === n,
        total,
      );

      // Search dims the rest; hover lights a node's neighbourhood.
      await page.getByRole("searchbox").fill(appName);
      await page.locator(".topo-svg[data-search] g[data-match]").first().waitFor();
      await page.getByRole("searchbox").fill("");
      await node(`app:${app.id}`).hover();
      await page.locator(".topo-svg[data-hover] .topo-node[data-near]").nth(1).waitFor();

      // Clicking a node opens its page; so does Enter on a focused node.
      await page.getByRole("button", { name: "Fit" }).click();
      await node(`app:${app.id}`).click();
      await page.waitForURL(new RegExp(`/o/acme/apps/${appName}$`));
      await page.getByRole("heading", { name: appName }).first().waitFor();
      await page.goBack();
      await node(`app:${app.id}`).focus();
      await page.keyboard.press("Enter");
      await page.waitForURL(new RegExp(`/o/acme/apps/${appName}$`));
      await page.goBack();
      await node(`app:${app.id}`).waitFor();

      // Phones get the table.
      await page.setViewportSize(PHONE);
      assert.equal(await page.locator(".topo-map").isVisible(), false);
      await shot(page, "topology-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // The whole install, for platform admins.
      await page.goto(`${hub.url}/admin/topology`);
      await page.locator(`tr[data-node="app:${app.id}"]`).waitFor();
      await page.locator(".topo-node").first().waitFor();
      await shot(page, "topology-admin-desktop");

      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await services.apps.idle().catch(() => {});
      await hub.stop();
      await cleanupApps(docker, [org.id], SUITE).catch(() => {});
      await cleanupSuite(docker, SUITE).catch(() => {});
      docker.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
