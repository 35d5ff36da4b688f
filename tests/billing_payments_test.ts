/**
 * Wallet top-ups through PayPal Orders v2, on both dialects, against a loopback stand-in speaking
 * PayPal's documented shapes (tests/support/paypal_standin.ts; not PayPal itself). Exactly once:
 * the return capture and the webhook (in either order, replayed, on two hub replicas at once)
 * credit one ledger top-up; a failed verification and an amount mismatch credit nothing; PayPal
 * down loses nothing; a top-up ends the wallet's grace. Every request the hub sent had the shape
 * PayPal documents (the stand-in's `problems` stay empty).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { CLIENT_SECRET, type StandIn, startPayPalStandIn } from "./support/paypal_standin.ts";

const PLAN = {
  currency: "EUR",
  cpu_core_hour: 100,
  memory_gib_hour: 10,
  storage_gib_month: 0,
  egress_gib: 0,
  build_minute: 0,
};

async function setup(h: Parameters<Parameters<typeof dbTest>[1]>[0], pp: StandIn) {
  const clock = manualClock(Date.UTC(2026, 11, 3, 22));
  const t = testApp(h, clock, undefined, pp.env);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  await t.services.billing.setPlan(SYSTEM_CTX, undefined, PLAN);
  const acme = (await t.services.orgs.bySlug("acme"))!;
  const call = async (cookie: string | undefined, method: string, path: string, json?: unknown) => {
    const res = await t.request(path, { method, cookie, json });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    return {
      status: res.status,
      location: res.headers.get("location"),
      text,
      body: text && type.includes("json") ? JSON.parse(text) : null,
    };
  };
  const start = async (amount: number) => {
    const r = await call(owner.cookie, "POST", "/api/v1/orgs/acme/billing/payments", { amount });
    assert.equal(r.status, 201, r.text);
    return r.body as {
      payment: { id: string; provider_order_id: string; status: string };
      approve_url: string;
    };
  };
  const ret = (id: string, order: string) =>
    call(owner.cookie, "GET", `/o/acme/billing/payments/${id}/return?token=${order}&PayerID=P1`);
  const webhook = async (d: { headers: Record<string, string>; body: string }, app = t) => {
    const res = await app.request("/api/v1/billing/paypal/webhook", {
      method: "POST",
      headers: d.headers,
      body: d.body,
    });
    return { status: res.status, body: await res.json() };
  };
  const balance = () => t.services.billingLedger.balance(acme.id);
  const topUps = () =>
    h.db.selectFrom("billing_ledger").selectAll().where("org_id", "=", acme.id)
      .where("kind", "=", "top_up").execute();
  const actions = async () => (await h.db.selectFrom("audit_log").select([
    "action",
    "status",
    "error",
    "metadata",
  ])
    .where("action", "like", "payment.%").orderBy("id").execute());
  return { t, clock, owner, member, acme, call, start, ret, webhook, balance, topUps, actions };
}

dbTest("[e2e] PayPal top-up: create → approve → return capture credits once", async (h) => {
  const pp = startPayPalStandIn();
  try {
    const s = await setup(h, pp);
    const { payment, approve_url } = await s.start(1050);
    const order = payment.provider_order_id;
    assert.equal(payment.status, "created");
    assert.equal(approve_url, `https://www.sandbox.paypal.com/checkoutnow?token=${order}`);
    // The order PayPal was asked for: 10.50 EUR as a string, tied to the payment id.
    const o = pp.orders.get(order)!;
    assert.equal(o.value, "10.50");
    assert.equal(o.currency, "EUR");
    assert.equal(o.customId, payment.id);
    assert.equal(o.referenceId, payment.id);
    assert.equal(o.requestId, `capstan-order-${payment.id}`);
    const ctx =
      (o.body.payment_source as { paypal: { experience_context: Record<string, string> } })
        .paypal.experience_context;
    assert.match(ctx.return_url, new RegExp(`/o/acme/billing/payments/${payment.id}/return$`));
    assert.match(ctx.cancel_url, new RegExp(`/o/acme/billing/payments/${payment.id}/cancel$`));

    // Returning before approving: PayPal refuses the capture; nothing credited, nothing lost.
    let r = await s.ret(payment.id, order);
    assert.equal(r.status, 422, r.text);
    assert.match(r.text, /ORDER_NOT_APPROVED/);
    assert.equal(await s.balance(), 0);

    pp.approve(order);
    r = await s.ret(payment.id, order);
    assert.equal(r.status, 303, r.text);
    assert.equal(r.location, `/o/acme/billing?payment=${payment.id}`);
    assert.equal(await s.balance(), 1050);
    const [entry] = await s.topUps();
    assert.equal(entry.reference, `paypal:${pp.orders.get(order)!.capture!.id}`);
    assert.equal(entry.actor, `user:${s.owner.id}`);
    // The page says so.
    const page = await s.call(s.owner.cookie, "GET", r.location!);
    assert.match(page.text, /data-payment-status="captured"/);
    assert.match(page.text, /Top-up of 10.50.EUR received/);

    // Back again, and the API capture: nothing more.
    r = await s.ret(payment.id, order);
    assert.equal(r.status, 303);
    r = await s.call(
      s.owner.cookie,
      "POST",
      `/api/v1/orgs/acme/billing/payments/${payment.id}/capture`,
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outcome, "already");
    // The webhook after the return capture, and its replay: nothing more.
    const d = pp.deliver(pp.captureEvent(order));
    assert.deepEqual((await s.webhook(d)).body, { outcome: "already" });
    assert.deepEqual((await s.webhook(d)).body, { outcome: "already" });
    assert.equal(await s.balance(), 1050);
    assert.equal((await s.topUps()).length, 1);

    // A return link with another order's token is refused.
    r = await s.ret(payment.id, "5OTHER");
    assert.equal(r.status, 422);

    // The list, for members too.
    r = await s.call(s.member.cookie, "GET", "/api/v1/orgs/acme/billing/payments");
    assert.equal(r.status, 200);
    assert.equal(r.body.provider, "PayPal");
    assert.equal(r.body.items[0].status, "captured");
    assert.equal(r.body.items[0].capture_id, pp.orders.get(order)!.capture!.id);

    const acts = (await s.actions()).map((a) => `${a.action}:${a.status}`);
    assert.deepEqual(acts, [
      "payment.created:ok",
      "payment.capture:error",
      "payment.captured:ok",
    ]);
    // One token for everything (cached), and no shape problems.
    assert.equal(pp.calls.filter((c) => c === "POST /v1/oauth2/token").length, 1);
    assert.deepEqual(pp.problems, []);
    // The secret appears in no audit row.
    const all = await h.db.selectFrom("audit_log").selectAll().execute();
    assert.ok(!JSON.stringify(all).includes(CLIENT_SECRET));
  } finally {
    await pp.close();
  }
});

dbTest(
  "[e2e] PayPal top-up: webhook before the return capture, replayed, two replicas",
  async (h) => {
    const pp = startPayPalStandIn();
    try {
      const s = await setup(h, pp);
      // Webhook first (PayPal captured; the payer never came back yet), replayed.
      const a = await s.start(2000);
      pp.approve(a.payment.provider_order_id);
      const d = pp.deliver(pp.captureEvent(a.payment.provider_order_id));
      assert.deepEqual((await s.webhook(d)).body, { outcome: "credited" });
      assert.deepEqual((await s.webhook(d)).body, { outcome: "already" });
      // Then the return: settled already, no capture call, no credit.
      let r = await s.ret(a.payment.id, a.payment.provider_order_id);
      assert.equal(r.status, 303, r.text);
      assert.equal(await s.balance(), 2000);
      assert.ok(
        !pp.calls.includes(`POST /v2/checkout/orders/${a.payment.provider_order_id}/capture`),
      );

      // PayPal captured already (an earlier capture whose answer was lost), webhook not yet sent:
      // the capture call answers 422 ORDER_ALREADY_CAPTURED, the order is read back and credited;
      // the webhook arriving after credits nothing.
      const c = await s.start(400);
      pp.approve(c.payment.provider_order_id);
      const late = pp.deliver(pp.captureEvent(c.payment.provider_order_id));
      r = await s.ret(c.payment.id, c.payment.provider_order_id);
      assert.equal(r.status, 303, r.text);
      assert.ok(pp.calls.includes(`GET /v2/checkout/orders/${c.payment.provider_order_id}`));
      assert.deepEqual((await s.webhook(late)).body, { outcome: "already" });
      assert.equal(await s.balance(), 2400);

      // Two hub replicas (their own services on the same database) receive the webhook and the
      // payer returns, all at once: one credit.
      const t2 = testApp(h, s.clock, undefined, pp.env);
      const b = await s.start(3000);
      pp.approve(b.payment.provider_order_id);
      const d2 = pp.deliver(pp.captureEvent(b.payment.provider_order_id));
      const outcomes = await Promise.all([
        s.webhook(d2),
        s.webhook(d2, t2),
        s.ret(b.payment.id, b.payment.provider_order_id),
        s.webhook(d2, t2),
      ]);
      const hooks = [outcomes[0], outcomes[1], outcomes[3]] as { body: { outcome: string } }[];
      const credited = hooks.filter((o) => o.body.outcome === "credited").length;
      assert.ok(credited <= 1, JSON.stringify(outcomes));
      assert.equal(await s.balance(), 5400);
      assert.equal((await s.topUps()).length, 3);
      const captured = (await s.actions()).filter((x) => x.action === "payment.captured");
      assert.equal(captured.length, 3);
      assert.deepEqual(pp.problems, []);
    } finally {
      await pp.close();
    }
  },
);

dbTest("[e2e] PayPal top-up: refused webhooks, mismatch, PayPal down, denied", async (h) => {
  const pp = startPayPalStandIn();
  try {
    const s = await setup(h, pp);
    const a = await s.start(1000);
    pp.approve(a.payment.provider_order_id);
    const event = pp.captureEvent(a.payment.provider_order_id);
    const d = pp.deliver(event);
    // A tampered body (the amount raised), a forged signature, missing headers: 401, nothing.
    const tampered = { ...d, body: d.body.replace('"value":"10.00"', '"value":"99.00"') };
    assert.notEqual(tampered.body, d.body);
    assert.equal((await s.webhook(tampered)).status, 401);
    const forged = { ...d, headers: { ...d.headers, "paypal-transmission-sig": "Zm9yZ2Vk" } };
    assert.equal((await s.webhook(forged)).status, 401);
    const bare = { body: d.body, headers: { "content-type": "application/json" } };
    assert.equal((await s.webhook(bare)).status, 401);
    let res = await s.t.request("/api/v1/billing/paypal/webhook", {
      method: "POST",
      body: "not json",
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    // Over 64 KB.
    res = await s.t.request("/api/v1/billing/paypal/webhook", {
      method: "POST",
      body: JSON.stringify({ pad: "x".repeat(70_000) }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 413);
    await res.body?.cancel();
    assert.equal(await s.balance(), 0);
    const refused = (await s.actions()).filter((x) => x.action === "payment.webhook_refused");
    assert.equal(refused.length, 4);
    // An event this hub does not act on is acknowledged.
    const other = pp.deliver({ id: "WH-1", event_type: "CHECKOUT.ORDER.APPROVED", resource: {} });
    assert.deepEqual((await s.webhook(other)).body, { outcome: "ignored" });

    // Mismatch: PayPal's capture says 1.00 EUR for a 10.00 EUR payment → nothing credited.
    const m = await s.start(1000);
    pp.approve(m.payment.provider_order_id);
    pp.captureValue = "1.00";
    let r = await s.ret(m.payment.id, m.payment.provider_order_id);
    assert.equal(r.status, 303);
    pp.captureValue = undefined;
    const mp = await s.t.services.billingPayments.get(s.acme.id, m.payment.id);
    assert.equal(mp.status, "failed");
    assert.match(mp.error!, /nothing credited/);
    // Its webhook (same capture) credits nothing either.
    const md = pp.deliver(pp.captureEvent(m.payment.provider_order_id));
    assert.deepEqual((await s.webhook(md)).body, { outcome: "mismatch" });
    assert.equal(await s.balance(), 0);
    assert.equal(
      (await s.actions()).filter((x) => x.action === "payment.mismatch").length,
      1,
    );

    // PayPal down when starting: a clear 503, the row kept as failed, nothing charged.
    pp.down = true;
    r = await s.call(s.owner.cookie, "POST", "/api/v1/orgs/acme/billing/payments", {
      amount: 500,
    });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.error.code, "provider_down");
    assert.match(r.body.error.message, /PayPal refused to create the order \(HTTP 503/);
    assert.ok(!r.text.includes(CLIENT_SECRET));
    pp.down = false;
    // Down when the payer returns: 503 page, the payment stays open; once up, it is credited.
    const b = await s.start(700);
    pp.approve(b.payment.provider_order_id);
    pp.down = true;
    r = await s.ret(b.payment.id, b.payment.provider_order_id);
    assert.equal(r.status, 503);
    assert.match(r.text, /reload this page to try again/);
    // The webhook cannot be verified while PayPal is down: 503, so PayPal retries later.
    const bd = pp.deliver(pp.captureEvent(b.payment.provider_order_id));
    assert.equal((await s.webhook(bd)).status, 503);
    assert.equal(
      (await s.t.services.billingPayments.get(s.acme.id, b.payment.id)).status,
      "created",
    );
    pp.down = false;
    assert.deepEqual((await s.webhook(bd)).body, { outcome: "credited" });
    r = await s.ret(b.payment.id, b.payment.provider_order_id);
    assert.equal(r.status, 303);
    assert.equal(await s.balance(), 700);

    // Denied at capture: nothing credited, audited.
    const dn = await s.start(900);
    pp.approve(dn.payment.provider_order_id);
    pp.captureStatus = "DECLINED";
    r = await s.ret(dn.payment.id, dn.payment.provider_order_id);
    pp.captureStatus = undefined;
    assert.equal(r.status, 303);
    const page = await s.call(s.owner.cookie, "GET", r.location!);
    assert.match(page.text, /data-payment-status="denied"/);
    assert.equal(await s.balance(), 700);

    // Cancelled at PayPal.
    const c = await s.start(800);
    r = await s.call(s.owner.cookie, "GET", `/o/acme/billing/payments/${c.payment.id}/cancel`);
    assert.equal(r.status, 303);
    assert.equal(
      (await s.t.services.billingPayments.get(s.acme.id, c.payment.id)).status,
      "cancelled",
    );
    const acts = (await s.actions()).map((x) => x.action);
    for (const want of ["payment.denied", "payment.cancelled", "payment.mismatch"]) {
      assert.ok(acts.includes(want), want);
    }
    assert.deepEqual(pp.problems, []);
  } finally {
    await pp.close();
  }
});

dbTest("[e2e] PayPal top-up ends the wallet's grace; refunds debit once", async (h) => {
  const pp = startPayPalStandIn();
  try {
    const s = await setup(h, pp);
    const { billingLedger, billingWallet } = s.t.services;
    await billingLedger.append({
      org_id: s.acme.id,
      kind: "charge",
      amount: -500,
      currency: "EUR",
      actor: "system:billing",
    });
    await billingWallet.check(s.acme.id);
    assert.equal((await billingWallet.standing(s.acme.id)).state, "grace");
    const a = await s.start(1000);
    pp.approve(a.payment.provider_order_id);
    assert.equal((await s.ret(a.payment.id, a.payment.provider_order_id)).status, 303);
    assert.equal(await s.balance(), 500);
    assert.equal((await billingWallet.standing(s.acme.id)).state, "ok");

    // PayPal refunds 4.00 EUR of it (twice delivered): one debit of 400.
    const capture = pp.orders.get(a.payment.provider_order_id)!.capture!;
    const refund = pp.deliver({
      id: "WH-REFUND1",
      event_version: "1.0",
      resource_type: "refund",
      event_type: "PAYMENT.CAPTURE.REFUNDED",
      resource: {
        id: "1JU08902781691411",
        status: "COMPLETED",
        amount: { currency_code: "EUR", value: "4.00" },
        links: [
          { href: `${pp.url}/v2/payments/refunds/1JU08902781691411`, rel: "self", method: "GET" },
          { href: `${pp.url}/v2/payments/captures/${capture.id}`, rel: "up", method: "GET" },
        ],
      },
    });
    assert.deepEqual((await s.webhook(refund)).body, { outcome: "refunded" });
    assert.deepEqual((await s.webhook(refund)).body, { outcome: "already" });
    assert.equal(await s.balance(), 100);
    assert.deepEqual(pp.problems, []);
  } finally {
    await pp.close();
  }
});

dbTest("[e2e] PayPal top-up: validation, roles, currencies, not configured", async (h) => {
  const pp = startPayPalStandIn();
  try {
    const s = await setup(h, pp);
    const post = (cookie: string, json: unknown) =>
      s.call(cookie, "POST", "/api/v1/orgs/acme/billing/payments", json);
    for (
      const [body, field] of [
        [{ amount: 0 }, "amount"],
        [{ amount: 10.5 }, "amount"],
        [{ amount: "1000" }, "amount"],
        [{ amount: 99 }, "amount"], // below 1.00 EUR
        [{ amount: 10_000_001 }, "amount"], // above 100,000.00 EUR
        [{ amount: 1000, extra: 1 }, "input"],
      ] as const
    ) {
      const r = await post(s.owner.cookie, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      const fields = Object.keys(r.body.error.fields ?? {});
      assert.ok(
        field === "input" ? fields.length > 0 : fields.includes(field),
        `${JSON.stringify(body)}: ${r.text}`,
      );
    }
    assert.equal((await post(s.member.cookie, { amount: 1000 })).status, 403);

    // JPY has no decimals: 500 yen is "500" at PayPal.
    await s.t.services.billing.setPlan(SYSTEM_CTX, s.acme, { ...PLAN, currency: "JPY" });
    let r = await post(s.owner.cookie, { amount: 500 });
    assert.equal(r.status, 201, r.text);
    assert.equal(pp.orders.get(r.body.payment.provider_order_id)!.value, "500");
    // HUF: Capstan counts hundredths, PayPal takes whole forints only.
    await s.t.services.billing.setPlan(SYSTEM_CTX, s.acme, { ...PLAN, currency: "HUF" });
    r = await post(s.owner.cookie, { amount: 100_050 });
    assert.equal(r.status, 400);
    assert.match(r.body.error.fields.amount, /whole amounts of HUF/);
    r = await post(s.owner.cookie, { amount: 100_000 });
    assert.equal(r.status, 201, r.text);
    assert.equal(pp.orders.get(r.body.payment.provider_order_id)!.value, "1000");
    // A currency PayPal does not take.
    await s.t.services.billing.setPlan(SYSTEM_CTX, s.acme, { ...PLAN, currency: "KWD" });
    r = await post(s.owner.cookie, { amount: 5000 });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.currency);
    assert.deepEqual(pp.problems, []);

    // Without CAPSTAN_PAYPAL_*: 503 payments_unconfigured; the webhook likewise.
    const bare = testApp(h);
    const o2 = await bare.user("owner2@acme.io", { org: "acme", role: "owner" });
    const res = await bare.request("/api/v1/orgs/acme/billing/payments", {
      method: "POST",
      cookie: o2.cookie,
      json: { amount: 1000 },
    });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "payments_unconfigured");
    const wh = await bare.request("/api/v1/billing/paypal/webhook", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(wh.status, 503);
    await wh.body?.cancel();

    // The OpenAPI document has the routes.
    const doc = await (await s.t.request("/api/v1/openapi.json")).json();
    for (
      const p of [
        "/api/v1/orgs/{org}/billing/payments",
        "/api/v1/orgs/{org}/billing/payments/{id}/capture",
        "/api/v1/billing/paypal/webhook",
      ]
    ) assert.ok(doc.paths[p], `documents ${p}`);
    assert.ok(doc.components.schemas.Payment);
  } finally {
    await pp.close();
  }
});

dbTest("[e2e] PayPal webhooks: at most 16 verified at once, the rest answered 503", async (h) => {
  const pp = startPayPalStandIn();
  try {
    const s = await setup(h, pp);
    let release!: () => void;
    pp.hold = new Promise((r) => release = r);
    const d = pp.deliver({ id: "WH-X", event_type: "CHECKOUT.ORDER.APPROVED", resource: {} });
    const verifying = () => pp.calls.filter((c) => c.endsWith("verify-webhook-signature")).length;
    const first = Array.from({ length: 16 }, () => s.webhook(d));
    // Wait until all 16 reached PayPal (a condition, not a sleep).
    while (verifying() < 16) await new Promise((r) => setTimeout(r, 5));
    const over = await s.webhook(d);
    assert.equal(over.status, 503);
    assert.equal(over.body.error.code, "busy");
    release();
    for (const r of await Promise.all(first)) assert.deepEqual(r.body, { outcome: "ignored" });
    assert.deepEqual((await s.webhook(d)).body, { outcome: "ignored" });
  } finally {
    await pp.close();
  }
});
