/**
 * "Top up with PayPal" in a real browser, keyboard only: a real hub configured against the
 * loopback PayPal stand-in (tests/support/paypal_standin.ts; not PayPal itself). Chromium, signed
 * in as the org's owner, types a bad amount (the error shows, the text is kept), then a good one
 * and Enter; the billing page comes back with the focused "Continue to PayPal" link to the
 * approval URL. The stand-in approves the order and the browser follows PayPal's return link: the
 * wallet is credited once and the page says so. Screenshots at desktop and phone widths.
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
import { startPayPalStandIn } from "./support/paypal_standin.ts";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: PayPal browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: Top up with PayPal by keyboard, approve at the stand-in, return credited",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pp = startPayPalStandIn();
    const { hub, services, org, dataDir, profile } = await startBrowserHub(
      "billing-paypal",
      pp.env,
    );
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await services.billing.setPlan({ actor: { type: "system", name: "test" } }, undefined, {
        currency: "EUR",
        cpu_core_hour: 100,
        memory_gib_hour: 10,
        storage_gib_month: 0,
        egress_gib: 0,
        build_minute: 0,
      });
      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);
      await page.goto(`${hub.url}/o/acme/billing`);
      await page.getByRole("heading", { name: "Top up with PayPal" }).waitFor();

      // Keyboard only: focus the field by its label, type, Enter.
      const amount = page.getByLabel("Amount (EUR)");
      await amount.focus();
      await page.keyboard.type("twelve");
      await Promise.all([page.waitForLoadState("load"), page.keyboard.press("Enter")]);
      await page.getByText("Must be an amount like 50.00 in EUR").waitFor();
      assert.equal(await page.getByLabel("Amount (EUR)").inputValue(), "twelve");
      await shotBoth(page, "billing-paypal-error");

      await page.getByLabel("Amount (EUR)").fill("");
      await page.getByLabel("Amount (EUR)").focus();
      await page.keyboard.type("12.34");
      await Promise.all([
        page.waitForURL(/\/o\/acme\/billing\?payment=[\w-]+$/),
        page.keyboard.press("Enter"),
      ]);
      const link = page.getByRole("link", { name: "Continue to PayPal" });
      await link.waitFor();
      const href = (await link.getAttribute("href"))!;
      assert.match(href, /^https:\/\/www\.sandbox\.paypal\.com\/checkoutnow\?token=/);
      // The link has the focus: Enter goes on to PayPal.
      assert.equal(
        await page.evaluate(() => document.activeElement?.hasAttribute("data-approve") ?? false),
        true,
      );
      await shotBoth(page, "billing-paypal-continue");

      // The payer approves at PayPal (the stand-in), which sends the browser back.
      const order = new URL(href).searchParams.get("token")!;
      pp.approve(order);
      const o = pp.orders.get(order)!;
      const ret = (o.body.payment_source as {
        paypal: { experience_context: { return_url: string } };
      }).paypal.experience_context.return_url;
      assert.ok(ret.startsWith(hub.url), ret);
      await page.goto(`${ret}?token=${order}&PayerID=TESTPAYER`);
      await page.waitForURL(/\/o\/acme\/billing\?payment=[\w-]+$/);
      await page.getByText("Top-up of 12.34 EUR received: the wallet is credited.").waitFor();
      assert.equal(await services.billingLedger.balance(org.id), 1234);
      await shotBoth(page, "billing-paypal-received");
      assert.deepEqual(pp.problems, []);
      // The one error the browser logs is the bad amount's 400 answer, which is the point.
      assert.deepEqual(errors, [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)",
      ]);
    } finally {
      await context?.close();
      await hub.stop();
      await pp.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
