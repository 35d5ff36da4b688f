/**
 * The PayPal client on its own, against the loopback stand-in (tests/support/paypal_standin.ts)
 * and a few hand-made answers: money to PayPal's decimal strings and back (never a float), the
 * token cached until shortly before it expires (and renewed after a 401), the approval link,
 * timeouts and size caps on answers, and no error that carries the client secret.
 */
import assert from "node:assert/strict";
import { decimalToMinor, minorToDecimal, PaymentProviderError } from "./provider.ts";
import {
  createPayPal,
  fromPayPalValue,
  PAYPAL_MAX_RESPONSE_BYTES,
  toPayPalValue,
} from "./paypal.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  startPayPalStandIn,
  WEBHOOK_ID,
} from "../../../tests/support/paypal_standin.ts";

Deno.test("PayPal values: minor units ↔ decimal strings per currency, exactly", () => {
  assert.equal(minorToDecimal(1050, 2), "10.50");
  assert.equal(minorToDecimal(7, 2), "0.07");
  assert.equal(minorToDecimal(0, 2), "0.00");
  assert.equal(minorToDecimal(500, 0), "500");
  assert.equal(minorToDecimal(1234, 3), "1.234");
  assert.equal(minorToDecimal(999_999_999_999_99, 2), "999999999999.99");
  assert.throws(() => minorToDecimal(-1, 2));
  assert.throws(() => minorToDecimal(1.5, 2));
  assert.equal(toPayPalValue(1050, "EUR"), "10.50");
  assert.equal(toPayPalValue(500, "JPY"), "500");
  // Capstan counts HUF and TWD in hundredths (Intl); PayPal takes whole units only.
  assert.equal(toPayPalValue(100_000, "HUF"), "1000");
  assert.throws(() => toPayPalValue(100_050, "HUF"));
  assert.equal(decimalToMinor("10.5", 2), 1050);
  assert.equal(decimalToMinor("10.50", 2), 1050);
  assert.equal(decimalToMinor("10", 2), 1000);
  assert.equal(decimalToMinor("0.10", 0), undefined);
  assert.equal(decimalToMinor("1.000", 0), 1);
  for (const bad of ["-1.00", "1e3", "1.001", "", " 1", "0x10", "1,00"]) {
    assert.equal(decimalToMinor(bad, 2), undefined, bad);
  }
  assert.equal(fromPayPalValue("1000", "HUF"), 100_000);
  assert.equal(fromPayPalValue("500", "JPY"), 500);
  // 0.1 + 0.2 style trouble cannot happen: every step is string arithmetic.
  assert.equal(fromPayPalValue("0.30", "USD"), 30);
});

Deno.test("PayPal client: token cached until it nearly expires, renewed after a 401", async () => {
  const pp = startPayPalStandIn();
  try {
    let clock = 1_000_000;
    const p = createPayPal({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      webhookId: WEBHOOK_ID,
      apiBase: pp.url,
    }, { now: () => clock });
    const req = (id: string) => ({
      paymentId: id,
      amount: 1050,
      currency: "EUR",
      description: "Capstan wallet top-up for acme",
      returnUrl: "http://hub.test/r",
      cancelUrl: "http://hub.test/c",
    });
    const tokens = () => pp.calls.filter((c) => c === "POST /v1/oauth2/token").length;
    // Concurrent first callers share one token request.
    const [a, b] = await Promise.all([p.createCheckout(req("p1")), p.createCheckout(req("p2"))]);
    assert.notEqual(a.orderId, b.orderId);
    assert.equal(tokens(), 1);
    // The same payment id again: PayPal-Request-Id makes it the same order.
    assert.equal((await p.createCheckout(req("p1"))).orderId, a.orderId);
    assert.equal(tokens(), 1);
    // The stand-in's tokens last 32,400 s; renewed a minute early.
    clock += (32_400 - 61) * 1000;
    await p.createCheckout(req("p3"));
    assert.equal(tokens(), 1);
    clock += 2000;
    await p.createCheckout(req("p4"));
    assert.equal(tokens(), 2);
    // Revoked early: the 401 fetches a new token once and the call goes through.
    pp.revokeTokens();
    await p.createCheckout(req("p5"));
    assert.equal(tokens(), 3);
    // The stand-in recorded the revoked token's use as a problem; nothing else.
    assert.deepEqual(pp.problems, ["create order: no valid Bearer token"]);
  } finally {
    await pp.close();
  }
});

Deno.test("PayPal client: wrong credentials, bad answers, oversized answers, timeouts", async () => {
  const pp = startPayPalStandIn();
  try {
    const wrong = createPayPal({
      clientId: CLIENT_ID,
      clientSecret: "not-the-secret",
      webhookId: WEBHOOK_ID,
      apiBase: pp.url,
    });
    const req = {
      paymentId: "x",
      amount: 100,
      currency: "EUR",
      description: "d",
      returnUrl: "http://hub.test/r",
      cancelUrl: "http://hub.test/c",
    };
    await assert.rejects(
      wrong.createCheckout(req),
      (e: Error) =>
        e instanceof PaymentProviderError &&
        /access token \(HTTP 401 invalid_client/.test(e.message) &&
        !e.message.includes("not-the-secret"),
    );
  } finally {
    await pp.close();
  }

  // Hand-made answers: an order with no approval link; a body past the cap; no answer at all.
  const answers: (() => Response | Promise<Response>)[] = [];
  const fake: typeof fetch = (input) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith("/v1/oauth2/token")) {
      return Promise.resolve(Response.json({ access_token: "T", expires_in: 3600 }));
    }
    return Promise.resolve(answers.shift()!());
  };
  const p = createPayPal({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    webhookId: WEBHOOK_ID,
    apiBase: "https://api-m.sandbox.paypal.com",
  }, { fetch: fake });
  const req = {
    paymentId: "x",
    amount: 100,
    currency: "EUR",
    description: "d",
    returnUrl: "https://hub.example/r",
    cancelUrl: "https://hub.example/c",
  };
  answers.push(() => Response.json({ id: "5O1", status: "CREATED", links: [] }, { status: 201 }));
  await assert.rejects(p.createCheckout(req), /no approval link/);
  answers.push(() => new Response("x".repeat(PAYPAL_MAX_RESPONSE_BYTES + 1), { status: 201 }));
  await assert.rejects(p.createCheckout(req), /larger than 262144 bytes/);
  answers.push(() => Promise.reject(new DOMException("signal timed out", "TimeoutError")));
  await assert.rejects(
    p.createCheckout(req),
    /PayPal could not be reached \(no answer within 15 s\)/,
  );
  answers.push(() => Promise.reject(new TypeError("connection refused")));
  await assert.rejects(
    p.createCheckout(req),
    /PayPal could not be reached \(the connection failed\)/,
  );
  // A capture answer whose amount is not money.
  answers.push(() =>
    Response.json({
      id: "5O1",
      status: "COMPLETED",
      purchase_units: [{
        payments: {
          captures: [{
            id: "3C1",
            status: "COMPLETED",
            amount: { currency_code: "EUR", value: "1e3" },
          }],
        },
      }],
    }, { status: 201 })
  );
  await assert.rejects(p.capture("5O1", "x", "EUR"), /is not money/);
  // An order id that is not one is never put into a URL.
  await assert.rejects(p.capture("../../v1/oauth2", "x", "EUR"), /bad order id/);
});

Deno.test("PayPal client: refuses currencies it does not take and decimals it does not", () => {
  const p = createPayPal({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    webhookId: WEBHOOK_ID,
    apiBase: "https://api-m.sandbox.paypal.com",
  });
  assert.equal(p.refuses(1000, "EUR"), undefined);
  assert.equal(p.refuses(500, "JPY"), undefined);
  assert.equal(p.refuses(100_000, "HUF"), undefined);
  assert.equal(p.refuses(100_050, "HUF")?.field, "amount");
  assert.equal(p.refuses(100_050, "TWD")?.field, "amount");
  assert.equal(p.refuses(1000, "KWD")?.field, "currency");
});
