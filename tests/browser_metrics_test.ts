/**
 * Metrics pages in a real browser: a real hub (port 0, SQLite in a temp dir) and the real agent
 * as a subprocess sampling every 0.5 s and reporting every second. Chromium opens the host page
 * and sees the CPU chart and gauges move without a reload, switches 1h → 24h in place (a metrics
 * API request, no navigation), then sees a fleet sparkline grow. Screenshots at desktop and phone
 * widths go to tests/artifacts/, and no page may be wider than its viewport.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page, WebSocket } from "playwright-core";
import { SYSTEM_CTX } from "./support/services.ts";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  pageConsoleError,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: browser metrics test ignored: ${missing}`);

/** A number attribute of the first element matching `selector`, or 0. */
async function numAttr(page: Page, selector: string, attr: string): Promise<number> {
  return Number(await page.locator(selector).first().getAttribute(attr) ?? 0);
}

/** Waits until `read()` returns more than `than` (a live update arrived). */
async function grows(what: string, read: () => Promise<number>, than: number, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (v > than) return v;
    if (Date.now() > end) throw new Error(`${what} did not grow past ${than} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Chart.js redraws at a new size on the next animation frames. */
const CHART_SETTLE_MS = 400;

Deno.test({
  name:
    "[e2e] browser: host page charts and gauges update live, range switches in place, fleet sparklines move, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Rollups are run by hand below, so the 24 h view has minute rows without waiting for cron.
    const { hub, services, org, dataDir, profile } = await startBrowserHub("browser-metrics");
    const agentDir = await Deno.makeTempDir({ prefix: "capstan-browser-metrics-agent-" });
    const { host, enrollment } = await services.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
    const machineId = "browser-metrics-" + crypto.randomUUID().slice(0, 8);
    const { token } = await services.hosts.enroll(SYSTEM_CTX, {
      token: enrollment.token,
      machineId,
      hostname: "web-1",
    });
    await Deno.writeTextFile(join(agentDir, "host-token"), token + "\n", { mode: 0o600 });
    await Deno.writeTextFile(join(agentDir, "machine-id"), machineId + "\n");
    const agent = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "agent/main.ts"],
      cwd: ROOT,
      env: {
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_AGENT_DIR: agentDir,
        CAPSTAN_MACHINE_ID_FILE: join(agentDir, "machine-id"),
        CAPSTAN_METRICS_INTERVAL_MS: "500",
        CAPSTAN_REPORT_INTERVAL_MS: "1000",
        CAPSTAN_AGENT_LOG_LEVEL: "error",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      // The first reports: the page then has series to chart.
      for (let i = 0; (await services.metrics.store.lastSeq(host.id)) < 2; i++) {
        if (i > 300) throw new Error("the agent sent no metrics within 60 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      await services.metrics.rollups.run({ all: true });

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => pageConsoleError(m) && errors.push(m.text()));
      await signIn(page, hub.url);

      // Host page: the CPU chart gets its history, then live points, with no page load between.
      // Its live islands (charts, host status, the bell) share the page's one WebSocket. (The
      // landing page's islands are live first, so its socket is not counted as the host page's.)
      await page.waitForSelector('a.bell[data-live="live"]', { timeout: 15_000 });
      const sockets: string[] = [];
      const onSocket = (ws: WebSocket) => sockets.push(ws.url());
      page.on("websocket", onSocket);
      await page.goto(`${hub.url}/o/acme/hosts/${host.id}`);
      await page.waitForSelector('capstan-island[data-island="HostCharts"][data-hydrated="true"]');
      await page.waitForSelector('.host-metrics .live[data-state="live"]', { timeout: 15_000 });
      await page.waitForSelector('.page-header .live[data-state="live"]', { timeout: 15_000 });
      await page.waitForSelector('a.bell[data-live="live"]', { timeout: 15_000 });
      assert.deepEqual(sockets.map((u) => new URL(u).pathname), ["/api/v1/ws"], "one WebSocket");
      page.off("websocket", onSocket);
      await page.evaluate(() => (globalThis as { __sameDocument?: boolean }).__sameDocument = true);
      const cpu = '[data-chart="cpu"]';
      await grows("CPU chart points", () => numAttr(page, cpu, "data-points"), 0);
      const loadedT = await numAttr(page, cpu, "data-last-t");
      const gaugeT = await numAttr(page, ".host-gauges", "data-t");
      const liveT = await grows(
        "CPU chart's newest point",
        () => numAttr(page, cpu, "data-last-t"),
        loadedT,
      );
      await grows("gauges' sample time", () => numAttr(page, ".host-gauges", "data-t"), gaugeT);
      assert.ok(liveT > loadedT);
      assert.match(
        await page.locator('[data-gauge="cpu"] .gauge-value').innerText(),
        /^\d+(\.\d)? %$/,
      );
      assert.equal(await page.locator('.host-metrics[data-tier="raw"]').count(), 1);
      await shot(page, "host-metrics-desktop", DESKTOP, CHART_SETTLE_MS);
      await shot(page, "host-metrics-phone", PHONE, CHART_SETTLE_MS);
      await page.setViewportSize(DESKTOP);

      // 1h → 24h: one metrics API request and a re-render, not a navigation.
      // (history.replaceState to ?range=24h is a same-document navigation: no load event.)
      let loads = 0;
      page.on("load", () => loads++);
      const [request] = await Promise.all([
        page.waitForRequest((r) =>
          /\/api\/v1\/orgs\/[^/]+\/hosts\/[^/]+\/metrics\?from=/.test(r.url())
        ),
        page.locator('.range-picker [data-range="24h"]').click(),
      ]);
      const asked = new URL(request.url());
      assert.equal(
        Number(asked.searchParams.get("to")) - Number(asked.searchParams.get("from")),
        24 * 3600_000,
      );
      await page.waitForSelector(
        '.host-metrics[data-range="24h"][data-tier="1m"]:not([data-loading])',
      );
      await page.waitForSelector("#stats-title >> text=Statistics, last 24h");
      assert.ok(await numAttr(page, cpu, "data-points") > 0, "minute rollups are drawn");
      assert.equal(loads, 0, "no page load");
      assert.equal(
        await page.evaluate(() => (globalThis as { __sameDocument?: boolean }).__sameDocument),
        true,
        "same document: the page was not reloaded",
      );
      assert.match(page.url(), /\?range=24h$/);
      await shot(page, "host-metrics-24h-desktop", DESKTOP, CHART_SETTLE_MS);

      // Fleet overview: the host's sparkline grows from live fleet summaries.
      sockets.length = 0;
      page.on("websocket", onSocket);
      await page.goto(`${hub.url}/o/acme`);
      await page.waitForSelector('capstan-island[data-island="FleetLive"][data-hydrated="true"]');
      await page.waitForSelector('.fleet .live[data-state="live"]', { timeout: 15_000 });
      await page.waitForSelector('a.bell[data-live="live"]', { timeout: 15_000 });
      assert.equal(sockets.length, 1, "the fleet and the bell share one WebSocket");
      page.off("websocket", onSocket);
      const spark = `[data-host-card="${host.id}"] .sparkline`;
      const sparkT = await numAttr(page, spark, "data-last-t");
      const sparkN = await numAttr(page, spark, "data-points");
      assert.ok(sparkT > 0, "the server drew the sparkline");
      await grows("sparkline's newest point", () => numAttr(page, spark, "data-last-t"), sparkT);
      const n = await numAttr(page, spark, "data-points");
      assert.ok(n > sparkN || n === 60, `points were added (${sparkN} → ${n}), at most 60`);
      assert.equal(
        await page.locator(`[data-host-card="${host.id}"] .badge-ok`).innerText(),
        "online",
      );
      assert.match(await page.locator('[data-fleet="cpu"] .stat-value').innerText(), /%$/);
      await shot(page, "fleet-desktop", DESKTOP, CHART_SETTLE_MS);
      await shot(page, "fleet-phone", PHONE, CHART_SETTLE_MS);
      await page.setViewportSize(DESKTOP);

      await page.getByRole("link", { name: "Settings" }).first().click();
      await page.waitForSelector("#storage-title");
      assert.match(await page.locator(`tr[data-host="${host.id}"]`).innerText(), /web-1/);
      await shot(page, "metrics-settings-desktop", DESKTOP, CHART_SETTLE_MS);
      await shot(page, "metrics-settings-phone", PHONE, CHART_SETTLE_MS);
      assert.deepEqual(errors, []);
    } finally {
      agent.kill("SIGTERM");
      await agent.status;
      await context?.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(agentDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
