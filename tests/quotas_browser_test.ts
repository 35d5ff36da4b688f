/**
 * Quotas in a real browser (issue 21): a platform admin sets a default and an override in the
 * admin editor without JavaScript-only controls, then the organization's quota page shows a bar
 * per resource with the use of two saved apps against the limits. Screenshots at desktop and
 * phone widths go to tests/artifacts/ (quotas-*.png); neither page is wider than the viewport.
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { AppSpec } from "../lib/apps/spec.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import {
  chromiumMissing,
  IN_CI,
  launchBrowser,
  openPage,
  shotBoth,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: quotas browser test ignored: ${missing}`);

const spec = (cpus: number, replicas: number) =>
  AppSpec.parse({
    services: [{
      name: "web",
      image: "capstan-test/busybox:latest",
      replicas,
      resources: { reservations: { cpus, memory_bytes: 256 * 2 ** 20 } },
    }],
  });

Deno.test({
  name: "[e2e] browser: an admin sets quotas in the editor; the org's page shows bars; screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("quotas-browser");
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await services.accounts.createUser(SYSTEM_CTX, {
        email: "root@example.com",
        name: "Root",
        password: "root-password-long",
        isAdmin: true,
      });
      await services.apps.store.create(org.id, { name: "shop", spec: spec(0.5, 2) }, null);
      await services.apps.store.create(org.id, { name: "blog", spec: spec(0.25, 1) }, null);

      context = await launchBrowser(profile);
      const page = await openPage(context, errors);
      const url = hub.url;
      await page.goto(`${url}/login?next=/admin/quotas`);
      await signIn(page, url, {
        email: "root@example.com",
        password: "root-password-long",
        landing: /\/admin\/quotas/,
      });
      await page.getByLabel(/^CPU reserved by running services/).fill("2000");
      await page.getByLabel(/^Apps \(apps\)/).fill("5");
      await Promise.all([
        page.waitForURL(/ok=defaults/),
        page.getByRole("button", { name: "Save defaults" }).click(),
      ]);
      await page.locator("#o-org").selectOption("acme");
      await page.locator("#o-resource").selectOption("memory_bytes");
      await page.locator("#o-value").fill(String(2 ** 30));
      await page.locator("#o-reason").fill("trial org");
      await page.locator("#o-expires_days").fill("30");
      await Promise.all([
        page.waitForURL(/ok=override/),
        page.getByRole("button", { name: "Save override" }).click(),
      ]);
      assert.equal(await page.locator('[data-override="acme:memory_bytes"]').count(), 1);
      await shotBoth(page, "quotas-admin");

      await page.goto(`${url}/o/acme/quotas`);
      const cpu = page.locator('[data-quota="cpu_millis"]');
      assert.match(await cpu.innerText(), /1\.25 CPU of 2 CPU \(63 %\)/);
      const mem = page.locator('[data-quota="memory_bytes"]');
      assert.match(await mem.innerText(), /768 MiB of 1\.0 GiB \(75 %\)/);
      assert.match(await mem.innerText(), /trial org/);
      assert.match(await page.locator('[data-quota="apps"]').innerText(), /2 apps of 5 apps/);
      assert.match(
        await page.locator('[data-quota="replicas_per_service"]').innerText(),
        /2 replicas of unlimited/,
      );
      await shotBoth(page, "quotas-org");

      // A violation: the apps limit lowered below what exists. The grace banner with its
      // countdown (the island) on the org's pages, the history's bar on the quota page.
      await services.quotas.setOverride(SYSTEM_CTX, org.id, "apps", { value: 1, reason: "test" });
      await services.quotaWatch.checkAll();
      await page.goto(`${url}/o/acme/quotas`);
      const banner = page.locator(".grace-banner [data-grace='quota:apps']");
      assert.match(
        await banner.innerText(),
        /Quota exceeded: Apps uses 2 apps of 1 app.* in (3 d 0 h|2 d 23 h)/,
      );
      assert.equal(await page.locator("capstan-island [data-countdown]").count(), 1, "hydrated");
      assert.equal(await page.locator('[data-history="apps"] svg.quota-spark rect').count(), 1);
      await shotBoth(page, "quotas-grace");
      await page.goto(`${url}/o/acme/apps`);
      assert.equal(await page.locator(".grace-banner [data-grace='quota:apps']").count(), 1);
      await shotBoth(page, "quotas-grace-apps");

      // The admins' consumption overview.
      await page.goto(`${url}/admin/quotas/usage`);
      assert.match(await page.locator('[data-org="acme"]').innerText(), /2 apps of 1 app/);
      await shotBoth(page, "quotas-usage");

      // The edit form: priority and the cost estimate (a priced plan).
      await services.billingPlans.set("default", {
        currency: "EUR",
        cpu_core_hour: 100,
        memory_gib_hour: 10,
        storage_gib_month: 0,
        egress_gib: 0,
        build_minute: 0,
      }, null);
      await page.goto(`${url}/o/acme/apps/shop/edit`);
      assert.equal(await page.locator("#app-priority").inputValue(), "0");
      assert.match(await page.locator(".cost-estimate").innerText(), /≈ 1\.05 EUR per hour/);
      await page.locator("#app-replicas").fill("4");
      await page.locator(".cost-estimate", { hasText: "2.10 EUR per hour" }).waitFor();
      await shotBoth(page, "apps-edit-estimate");
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
