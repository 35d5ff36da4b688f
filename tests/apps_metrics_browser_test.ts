/**
 * An app's metrics charts in a real browser, without an engine: a hub (port 0, SQLite), an app
 * whose two replicas' containers are on record (slot 1's replaced halfway), 30 minutes of their
 * samples through metrics ingest; Chromium opens the app page, the island draws CPU, memory and
 * network from the app metrics API, and a range switch refetches in place. Screenshots at desktop
 * and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
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
import { SYSTEM_CTX } from "./support/services.ts";
import { AppSpec } from "../lib/apps/spec.ts";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: app metrics browser test ignored: ${missing}`);

const MIN = 60_000;
const hex = (c: string) => c.repeat(64);

Deno.test({
  name:
    "[e2e] browser: app page draws its metrics charts (service total and replicas), screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("apps-metrics");
    let context: Awaited<ReturnType<typeof launchBrowser>> | undefined;
    try {
      const { host } = await services.hosts.create(SYSTEM_CTX, org.id, { name: "node-1" });
      const spec = AppSpec.parse({
        services: [{ name: "web", image: "capstan-test/busybox:latest", replicas: 2 }],
      });
      const app = await services.apps.store.create(org.id, { name: "shop", spec }, null);
      const now = services.clock.now();
      const start = now - (now % MIN) - 30 * MIN;
      const half = start + 15 * MIN;
      // Slot 1 ran in container a until halfway, then in b (a deploy); slot 2 in c throughout.
      const rows = [
        { container_id: hex("a"), slot: 1, first_seen: start, last_seen: half },
        { container_id: hex("b"), slot: 1, first_seen: half, last_seen: now },
        { container_id: hex("c"), slot: 2, first_seen: start, last_seen: now },
      ];
      await services.db.insertInto("app_task_containers").values(rows.map((r) => ({
        ...r,
        host_id: host.id,
        app_id: app.id,
        org_id: org.id,
        service: "web",
        task_id: `task-${r.container_id.slice(0, 4)}`,
      }))).execute();
      const samples = [];
      for (let t = start; t < now; t += 10_000) {
        const wave = 10 + 8 * Math.sin((t - start) / (4 * MIN));
        const slot1 = t < half ? hex("a") : hex("b");
        const fig = (cpu: number) => ({
          "ctr.cpu_pct": cpu,
          "ctr.mem_used_bytes": (40 + cpu) * 2 ** 20,
          "ctr.net_rx_bps": cpu * 5_000,
          "ctr.net_tx_bps": cpu * 2_000,
        });
        samples.push({
          t,
          host: {},
          containers: { [slot1]: fig(wave), [hex("c")]: fig(wave / 2 + 3) },
        });
      }
      for (let i = 0; i < samples.length; i += 60) {
        await services.metrics.ingest({ id: host.id, org_id: org.id }, {
          seq: i / 60,
          dropped: 0,
          samples: samples.slice(i, i + 60),
        });
      }

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => pageConsoleError(m) && errors.push(m.text()));
      await signIn(page, hub.url);
      await page.goto(`${hub.url}/o/acme/apps/shop`);
      const cpu = page.locator('.history-chart[data-chart="cpu"]');
      // data-points: the points of the chart's first line (the service total), once drawn.
      await page.waitForFunction(() =>
        Number(
          document.querySelector('.history-chart[data-chart="cpu"]')?.getAttribute("data-points"),
        ) >= 25
      );
      assert.equal(await page.locator(".history-chart").count(), 3);
      for (const label of ["Total", "web.1", "web.2"]) {
        assert.equal(await cpu.locator(".legend", { hasText: label }).count(), 1, label);
      }
      await page.locator(".app-metrics").scrollIntoViewIfNeeded();
      await shot(page, "apps-metrics-desktop", DESKTOP, 400);
      await shot(page, "apps-metrics-phone", PHONE, 400);

      // A range switch refetches in place (no navigation) and redraws.
      const refetch = page.waitForResponse((r) =>
        r.url().includes(`/api/v1/orgs/acme/apps/shop/metrics?from=`) && r.status() === 200
      );
      await page.getByRole("link", { name: "24h", exact: true }).click();
      await refetch;
      await page.waitForSelector('.host-metrics[data-range="24h"]:not([data-loading])');
      // 24 h at most 1000 points: 2-minute steps, so the 30 minutes are 15 points.
      assert.ok(Number(await cpu.getAttribute("data-points")) >= 14);

      // An app with no containers on record says so on each chart.
      await services.apps.store.create(org.id, { name: "idle", spec }, null);
      await page.goto(`${hub.url}/o/acme/apps/idle`);
      await page.locator('.history-chart[data-chart="cpu"] .chart-note', {
        hasText: "No figures in this range",
      }).waitFor();

      // The apps list shows the app's CPU and memory now (its containers' newest figures summed).
      await page.goto(`${hub.url}/o/acme/apps`);
      const usage = await page.locator('[data-usage="shop"]').textContent();
      assert.equal(await page.locator('[data-usage="idle"]').textContent(), "—");
      assert.match(usage ?? "", /^\d+\.\d % · \d+(\.\d)? MiB$/);
      await shot(page, "apps-list-usage-desktop");
      await shot(page, "apps-list-usage-phone", PHONE);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
