/**
 * "Top up with PayPal" on an org's Billing page, both dialects, no JavaScript: shown only when
 * CAPSTAN_PAYPAL_* are set and only to org admins/owners; bad amounts and PayPal being down are
 * shown in the form with what was typed kept; a good amount goes to PayPal's approval URL; the
 * return page credits and says so; the cancel page says nothing was charged. Against the loopback
 * PayPal stand-in (not PayPal itself).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { startPayPalStandIn } from "./support/paypal_standin.ts";

const PLAN = {
  currency: "EUR",
  cpu_core_hour: 100,
  memory_gib_hour: 10,
  storage_gib_month: 0,
  egress_gib: 0,
  build_minute: 0,
};

dbTest("[e2e] billing page: Top up with PayPal form, errors, return and cancel", async (h) => {
  const pp = startPayPalStandIn();
  try {
    // Not configured: no form, for anyone.
    const bare = testApp(h);
    const o0 = await bare.user("owner@acme.io", { org: "acme", role: "owner" });
    let res = await bare.request("/o/acme/billing", { cookie: o0.cookie });
    let html = await res.text();
    assert.equal(res.status, 200);
    assert.doesNotMatch(html, /Top up with PayPal/);

    const t = testApp(h, undefined, undefined, pp.env);
    await t.services.billing.setPlan(SYSTEM_CTX, undefined, PLAN);
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const acme = (await t.services.orgs.bySlug("acme"))!;
    const get = async (path: string, cookie: string) => {
      const r = await t.request(path, { cookie });
      return { status: r.status, html: await r.text(), location: r.headers.get("location") };
    };
    const post = async (fields: Record<string, string>, cookie: string) => {
      const r = await t.request("/o/acme/billing/payments", {
        method: "POST",
        body: new URLSearchParams(fields),
        cookie,
      });
      return { status: r.status, html: await r.text(), location: r.headers.get("location") };
    };

    // Members see no form and may not post one; admins (and owners) see it.
    let r = await get("/o/acme/billing", member.cookie);
    assert.doesNotMatch(r.html, /Top up with PayPal/);
    assert.equal((await post({ amount: "10" }, member.cookie)).status, 403);
    r = await get("/o/acme/billing", admin.cookie);
    assert.match(r.html, /<h2>Top up with PayPal<\/h2>/);
    assert.match(r.html, /<label for="topup-amount">Amount \(EUR\)<\/label>/);
    assert.match(r.html, /Start the top-up<\/button>/);
    res = await bare.request("/o/acme/billing", { cookie: o0.cookie });
    html = await res.text();
    assert.doesNotMatch(html, /Top up with PayPal/, "still none on the unconfigured hub");

    // Bad input: shown by the field, the typed value kept.
    const bad: [string, RegExp][] = [["ten", /must be an amount like 50.00/i], [
      "0.50",
      /must be between 1.00.EUR and 100.000.00.EUR/i,
    ]];
    for (const [amount, why] of bad) {
      r = await post({ amount }, admin.cookie);
      assert.equal(r.status, 400, amount);
      assert.match(r.html, why);
      assert.match(r.html, new RegExp(`id="topup-amount"[^>]*value="${amount}"`));
      assert.match(r.html, /aria-invalid="true"/);
    }
    r = await post({ amount: "" }, admin.cookie);
    assert.equal(r.status, 400);
    assert.match(r.html, /topup-amount-error">Is required/);

    // PayPal down: the form says so, the amount is kept, nothing is charged.
    pp.down = true;
    r = await post({ amount: "12.34" }, admin.cookie);
    pp.down = false;
    assert.equal(r.status, 503);
    assert.match(
      r.html,
      /PayPal refused to (issue an access token|create the order).*Nothing was charged/s,
    );
    assert.match(r.html, /id="topup-amount"[^>]*value="12.34"/);

    // A good amount: back to the billing page (the pages' CSP form-action 'self' would stop a
    // form's redirect to PayPal), which links to PayPal's approval page.
    r = await post({ amount: "12.34" }, admin.cookie);
    assert.equal(r.status, 303, r.html);
    assert.match(r.location!, /^\/o\/acme\/billing\?payment=[\w-]+$/);
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /data-payment-status="created"/);
    const link = /<a class="btn btn-primary" href="([^"]+)" data-approve/.exec(r.html)?.[1];
    assert.ok(link, "links to the approval URL");
    assert.match(link, /^https:\/\/www\.sandbox\.paypal\.com\/checkoutnow\?token=/);
    const order = new URL(link.replaceAll("&amp;", "&")).searchParams.get("token")!;
    const pending = await get(
      `/o/acme/billing?payment=${pp.orders.get(order)!.customId}`,
      member.cookie,
    );
    assert.match(pending.html, /data-payment-status="created"/);
    assert.doesNotMatch(pending.html, /data-approve/, "members get no approval link");
    const o = pp.orders.get(order)!;
    assert.equal(o.value, "12.34");
    const returnUrl = new URL(
      (o.body.payment_source as { paypal: { experience_context: { return_url: string } } }).paypal
        .experience_context.return_url,
    );
    pp.approve(order);
    r = await get(`${returnUrl.pathname}?token=${order}&PayerID=ABC`, admin.cookie);
    assert.equal(r.status, 303);
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /Top-up of 12.34.EUR received: the wallet is credited/);
    assert.equal(await t.services.billingLedger.balance(acme.id), 1234);
    // Members may not use the return link.
    assert.equal((await get(returnUrl.pathname, member.cookie)).status, 403);

    // Cancel: says nothing was charged.
    r = await post({ amount: "5" }, admin.cookie);
    const id2 = new URL(r.location!, "http://hub.test").searchParams.get("payment")!;
    const p2 = [...pp.orders.values()].find((o) => o.customId === id2)!;
    r = await get(`/o/acme/billing/payments/${p2.customId}/cancel?token=${p2.id}`, admin.cookie);
    assert.equal(r.status, 303);
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /Top-up of 5.00.EUR cancelled at PayPal: nothing was charged/);
    assert.equal(await t.services.billingLedger.balance(acme.id), 1234);
    assert.deepEqual(pp.problems, []);
  } finally {
    await pp.close();
  }
});
