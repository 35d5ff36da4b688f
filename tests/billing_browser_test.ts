/**
 * Billing in a real browser: a real hub (SQLite, no jobs) whose org ran an app for three hours
 * (usage facts written as the usage job would have, hours ago) and was billed by the real billing
 * run past its wallet. Chromium signs in as a platform admin, sets the default plan on
 * /admin/billing, reads the org's Billing page (balance, projection, grace banner, billed hours,
 * ledger), tops up through the form and sees the banner gone. Screenshots at desktop and phone
 * widths go to tests/artifacts/ (the page must fit both).
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import {
  ADA,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  openPage,
  shotBoth,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";
import { HOUR_MS } from "../lib/billing/meter.ts";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: billing browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: default plan, Billing page in grace, top-up by form, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("billing-browser");
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await services.db.updateTable("users").set({ is_admin: 1 }).where("email", "=", ADA.email)
        .execute();
      const app = await services.apps.store.create(org.id, {
        name: "shop",
        spec: (await import("../lib/apps/spec.ts")).AppSpec.parse({
          services: [{ name: "web", image: "capstan-test/busybox:latest" }],
        }),
      }, null);
      // Three closed hours of 2 × (1 core, 512 MiB), still running.
      const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
      await services.db.insertInto("billing_usage").values({
        id: crypto.randomUUID(),
        org_id: org.id,
        app_id: app.id,
        service: "web",
        replicas: 2,
        cpu_millis: 1000,
        memory_bytes: 2 ** 29,
        started_at: hour - 3 * HOUR_MS,
        ended_at: null,
      }).execute();

      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);

      // The default plan through the admin form.
      await page.goto(`${hub.url}/admin/billing`);
      await page.getByLabel("Per CPU core-hour reserved").fill("100");
      await page.getByLabel("Per GiB-hour of memory reserved").fill("10");
      await Promise.all([
        page.waitForURL(/\/admin\/billing\?done=plan$/),
        page.getByRole("button", { name: "Save price plan" }).click(),
      ]);
      await page.getByText("Default price plan saved.").waitFor();
      await shotBoth(page, "billing-admin-plan");

      // A first top-up of 5.00, then the billing run charges 3 × 2.10: grace.
      await services.billing.move(
        { actor: { type: "system", name: "test" } },
        org.id,
        { kind: "top_up", amount: 500, note: "welcome credit" },
      );
      const run = await services.billingCycles.run();
      assert.equal(run.billed, 3);
      await services.billingWallet.checkAll();

      await page.goto(`${hub.url}/o/acme`);
      await page.getByRole("link", { name: "Billing", exact: true }).first().click();
      await page.getByRole("heading", { name: "Billing", exact: true }).waitFor();
      await page.getByText("The wallet is below zero.").waitFor();
      assert.ok(await page.getByText("-1.30 EUR").count() >= 1);
      await page.getByText("2.10 EUR").first().waitFor();
      await shotBoth(page, "billing-grace");

      await page.getByLabel("Amount (EUR)").fill("20");
      await page.getByLabel("Note").fill("Invoice 2026-42 paid");
      await Promise.all([
        page.waitForURL(/\/billing\?done=moved$/),
        page.getByRole("button", { name: "Add to the ledger" }).click(),
      ]);
      await page.getByText("Ledger entry added.").waitFor();
      assert.equal(await page.getByText("The wallet is below zero.").count(), 0);
      await page.getByText("18.70 EUR").first().waitFor();
      await shotBoth(page, "billing-ok");
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
