/**
 * The cost estimate on the new-app form in a real browser: a real hub (SQLite, no jobs) with a
 * default price plan; Chromium signs in, opens the form (it says unreserved resources are not
 * billed), types reservations and changes the replicas, and the estimate follows live (the
 * CostEstimateLive island asking the hub's estimate endpoint) without a submit; the same on an
 * app page's scale form. Screenshots at
 * desktop and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  openPage,
  shotBoth,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: estimate browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: new-app form's cost estimate follows the replicas live, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, dataDir, profile } = await startBrowserHub("estimate-browser");
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await services.billingPlans.set("default", {
        currency: "EUR",
        cpu_core_hour: 100,
        memory_gib_hour: 10,
        storage_gib_month: 0,
        egress_gib: 0,
        build_minute: 0,
      }, null);
      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);
      await page.goto(`${hub.url}/o/acme/apps/new`);
      const estimate = page.locator(".cost-estimate");
      await estimate.getByText("unreserved resources are not billed").waitFor();
      // Hydrated: the island's wrapper is there once the bundle ran.
      await page.locator("capstan-island .cost-estimate-live").waitFor({ state: "attached" });

      await page.getByLabel("Name", { exact: true }).fill("shop");
      await page.getByLabel("Image", { exact: true }).fill("nginx:1.27");
      await page.getByLabel("CPU reservation").fill("0.5");
      await page.getByLabel("Memory reservation (MiB)").fill("512");
      // 1 × (0.50 + 0.05) an hour.
      await estimate.getByText("≈ 0.55 EUR per hour · 401.50 EUR per month").waitFor();

      await page.getByLabel("Replicas", { exact: true }).fill("3");
      await estimate.getByText("≈ 1.65 EUR per hour · 1\u202f204.50 EUR per month").waitFor();
      assert.equal(new URL(page.url()).pathname, "/o/acme/apps/new", "no submit happened");
      await shotBoth(page, "apps-new-estimate");

      await page.getByLabel("Replicas", { exact: true }).fill("0");
      await estimate.getByText("≈ 0.00 EUR per hour · 0.00 EUR per month").waitFor();
      await page.getByLabel("CPU reservation").fill("");
      await page.getByLabel("Memory reservation (MiB)").fill("");
      await estimate.getByText("unreserved resources are not billed").waitFor();

      // The scale form of a stored app: the whole app priced with the replicas typed.
      const { AppSpec } = await import("../lib/apps/spec.ts");
      const org = (await services.orgs.bySlug("acme"))!;
      await services.apps.store.create(org.id, {
        name: "shop",
        spec: AppSpec.parse({
          services: [{
            name: "web",
            image: "capstan-test/busybox:latest",
            replicas: 2,
            resources: { reservations: { cpus: 0.5, memory_bytes: 512 * 2 ** 20 } },
          }],
        }),
      }, null);
      await page.goto(`${hub.url}/o/acme/apps/shop`);
      const scale = page.locator(".scale-form .cost-estimate");
      await scale.getByText("≈ 1.10 EUR per hour · 803.00 EUR per month").waitFor();
      await page.locator("capstan-island .cost-estimate-live").waitFor({ state: "attached" });
      await page.getByLabel("Replicas of web").fill("4");
      await scale.getByText("≈ 2.20 EUR per hour · 1\u202f606.00 EUR per month").waitFor();
      await shotBoth(page, "apps-scale-estimate");
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
