/**
 * PayPal Orders v2 as a PaymentProvider (lib/billing/BILLING.md "Top-ups through PayPal"), from
 * PayPal's documented REST shapes:
 *
 * - `POST /v1/oauth2/token` (HTTP Basic client id:secret, `grant_type=client_credentials`) → an
 *   access token, cached until shortly before `expires_in`; one request in flight at a time.
 * - `POST /v2/checkout/orders` (intent CAPTURE, one purchase unit whose `reference_id` and
 *   `custom_id` are Capstan's payment id, `amount {currency_code, value}` as a decimal string made
 *   from integer minor units), `PayPal-Request-Id` = the payment id so a retried create makes no
 *   second order → the order id and its `payer-action` (or `approve`) link.
 * - `POST /v2/checkout/orders/{id}/capture` (`PayPal-Request-Id` per payment, so two hub replicas
 *   capturing at once get the same capture) → `purchase_units[0].payments.captures[0]`. An order
 *   captured already (422 ORDER_ALREADY_CAPTURED) is read back with `GET /v2/checkout/orders/{id}`.
 * - `POST /v1/notifications/verify-webhook-signature` with the delivery's PayPal-Transmission-*,
 *   Cert-Url and Auth-Algo headers, the webhook id and the event exactly as received →
 *   `verification_status` SUCCESS.
 *
 * Every request has a timeout and a response size cap. The client secret is only ever put into
 * the token request's Authorization header: never into an error, a log line or a page.
 * Not run against PayPal itself: its contract is tested against a loopback stand-in speaking
 * these shapes (payments/paypal_test.ts, tests/billing_payments_test.ts).
 */
import { z } from "zod";
import { digitsOf } from "../../../components/money.ts";
import {
  type CaptureFact,
  type Checkout,
  type CheckoutRequest,
  decimalToMinor,
  minorToDecimal,
  type PaymentProvider,
  PaymentProviderError,
  type WebhookFact,
  WebhookRefused,
} from "./provider.ts";

/** The settings (CAPSTAN_PAYPAL_*; lib/config.ts). */
export interface PayPalSettings {
  clientId: string;
  clientSecret: string;
  webhookId: string;
  /** https://api-m.sandbox.paypal.com (default) or https://api-m.paypal.com (live). */
  apiBase: string;
}

/** Per request: PayPal answers within seconds or not usefully at all (the payer is waiting). */
export const PAYPAL_TIMEOUT_MS = 15_000;
/** An order or a verification answer is a few KB; anything far larger is not PayPal's. */
export const PAYPAL_MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * Currencies PayPal's REST APIs take, and the ones among them it refuses decimals for
 * ("This currency does not support decimals. Decimal amounts cause an error.").
 */
export const PAYPAL_CURRENCIES = new Set([
  "AUD",
  "BRL",
  "CAD",
  "CNY",
  "CZK",
  "DKK",
  "EUR",
  "HKD",
  "HUF",
  "ILS",
  "JPY",
  "MYR",
  "MXN",
  "TWD",
  "NZD",
  "NOK",
  "PHP",
  "PLN",
  "GBP",
  "SGD",
  "SEK",
  "CHF",
  "THB",
  "USD",
]);
export const PAYPAL_NO_DECIMALS = new Set(["HUF", "JPY", "TWD"]);

/** Decimals PayPal's `value` carries for a currency: none for HUF, JPY, TWD; else Capstan's. */
export function paypalDigits(currency: string): number {
  return PAYPAL_NO_DECIMALS.has(currency) ? 0 : digitsOf(currency);
}

/**
 * Capstan minor units → PayPal's `value`. For HUF and TWD Capstan counts hundredths (Intl's two
 * decimals) where PayPal takes whole units: the amount must be whole (`refuses` says so first).
 */
export function toPayPalValue(minor: number, currency: string): string {
  const ours = digitsOf(currency);
  const theirs = paypalDigits(currency);
  const scale = 10 ** (ours - theirs);
  if (minor % scale !== 0) throw new RangeError(`${currency} takes whole amounts at PayPal`);
  return minorToDecimal(minor / scale, theirs);
}

/** PayPal's `value` → Capstan minor units, or undefined when it is not a decimal of the currency. */
export function fromPayPalValue(value: string, currency: string): number | undefined {
  return decimalToMinor(value, digitsOf(currency));
}

const Money = z.object({ currency_code: z.string().regex(/^[A-Z]{3}$/), value: z.string() });
const Link = z.object({ href: z.string(), rel: z.string(), method: z.string().optional() });
const Capture = z.object({
  id: z.string().min(1).max(64),
  status: z.string(),
  amount: Money,
  custom_id: z.string().max(127).optional(),
  supplementary_data: z.object({
    related_ids: z.object({ order_id: z.string().optional() }).passthrough().optional(),
  }).passthrough().optional(),
  links: z.array(Link).optional(),
}).passthrough();
const Order = z.object({
  id: z.string().min(1).max(64),
  status: z.string(),
  links: z.array(Link).optional(),
  purchase_units: z.array(
    z.object({
      reference_id: z.string().optional(),
      custom_id: z.string().optional(),
      payments: z.object({ captures: z.array(Capture).optional() }).passthrough().optional(),
    }).passthrough(),
  ).optional(),
}).passthrough();
const Refund = z.object({
  id: z.string().min(1).max(64),
  status: z.string().optional(),
  amount: Money,
  custom_id: z.string().max(127).optional(),
  links: z.array(Link).optional(),
}).passthrough();
const Event = z.object({
  id: z.string().min(1).max(128),
  event_type: z.string().min(1).max(128),
  resource: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/** Reads at most `max` bytes of a response body; more is an error (the connection is dropped). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new PaymentProviderError(`PayPal's answer was larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Options for tests: a clock for the token cache. */
export interface PayPalOptions {
  now?: () => number;
  fetch?: typeof fetch;
}

/** Creates the PayPal provider. */
export function createPayPal(s: PayPalSettings, opts: PayPalOptions = {}): PaymentProvider {
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const base = s.apiBase.replace(/\/+$/, "");
  let token: { value: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  /** One HTTP exchange with PayPal: bounded in time and size; errors name no secret. */
  async function exchange(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body,
        redirect: "error",
        signal: AbortSignal.timeout(PAYPAL_TIMEOUT_MS),
      });
    } catch (err) {
      const why = err instanceof DOMException && err.name === "TimeoutError"
        ? `no answer within ${PAYPAL_TIMEOUT_MS / 1000} s`
        : "the connection failed";
      throw new PaymentProviderError(`PayPal could not be reached (${why})`);
    }
    const text = await readCapped(res, PAYPAL_MAX_RESPONSE_BYTES);
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  }

  /** A PayPal error answer in words: "422 UNPROCESSABLE_ENTITY: ORDER_ALREADY_CAPTURED". */
  function failure(what: string, status: number, json: unknown): PaymentProviderError {
    const j = (json ?? {}) as {
      name?: unknown;
      error?: unknown;
      details?: { issue?: unknown }[];
    };
    const name = typeof j.name === "string" ? j.name : typeof j.error === "string" ? j.error : "";
    const issue = Array.isArray(j.details) && typeof j.details[0]?.issue === "string"
      ? j.details[0].issue
      : undefined;
    const words = [name, issue].filter(Boolean).join(": ").slice(0, 200);
    return new PaymentProviderError(
      `PayPal refused to ${what} (HTTP ${status}${words ? ` ${words}` : ""})`,
      status,
      issue,
    );
  }

  async function fetchToken(): Promise<string> {
    const basic = btoa(`${s.clientId}:${s.clientSecret}`);
    const r = await exchange("POST", "/v1/oauth2/token", {
      authorization: `Basic ${basic}`,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    }, "grant_type=client_credentials");
    const p = z.object({
      access_token: z.string().min(1).max(4096),
      expires_in: z.number().int().min(1),
    }).passthrough().safeParse(r.json);
    if (r.status !== 200 || !p.success) throw failure("issue an access token", r.status, r.json);
    // Renewed a minute early: a token that expires between our check and PayPal's is refused.
    token = {
      value: p.data.access_token,
      expiresAt: now() + Math.max(0, p.data.expires_in - 60) * 1000,
    };
    return token.value;
  }

  /** The cached token, or one fetched (a single request however many callers wait). */
  function accessToken(): Promise<string> {
    if (token && now() < token.expiresAt) return Promise.resolve(token.value);
    pending ??= fetchToken().finally(() => pending = undefined);
    return pending;
  }

  /** An authenticated JSON call; a 401 (token revoked early) fetches a new token once. */
  async function api(
    method: string,
    path: string,
    body: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown }> {
    for (let attempt = 0;; attempt++) {
      const t = await accessToken();
      const r = await exchange(method, path, {
        authorization: `Bearer ${t}`,
        "content-type": "application/json",
        accept: "application/json",
        ...extra,
      }, body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body));
      if (r.status === 401 && attempt === 0) {
        token = undefined;
        continue;
      }
      return r;
    }
  }

  const captureFact = (c: z.infer<typeof Capture>, orderId?: string): CaptureFact => {
    const currency = c.amount.currency_code;
    const amount = fromPayPalValue(c.amount.value, currency);
    if (amount === undefined) {
      throw new PaymentProviderError(`PayPal's capture amount "${c.amount.value}" is not money`);
    }
    const kind = c.status === "COMPLETED"
      ? "completed"
      : c.status === "DECLINED" || c.status === "FAILED"
      ? "denied"
      : "pending";
    return {
      kind,
      orderId: orderId ?? c.supplementary_data?.related_ids?.order_id,
      captureId: c.id,
      paymentId: c.custom_id,
      amount,
      currency,
    };
  };

  const firstCapture = (json: unknown): CaptureFact | undefined => {
    const o = Order.safeParse(json);
    if (!o.success) return undefined;
    const c = o.data.purchase_units?.[0]?.payments?.captures?.[0];
    if (!c) return undefined;
    return captureFact(
      { ...c, custom_id: c.custom_id ?? o.data.purchase_units?.[0]?.custom_id },
      o.data.id,
    );
  };

  return {
    name: "paypal",
    label: "PayPal",

    refuses(amount, currency) {
      if (!PAYPAL_CURRENCIES.has(currency)) {
        return { field: "currency", why: `PayPal does not take ${currency}` };
      }
      const scale = 10 ** (digitsOf(currency) - paypalDigits(currency));
      if (amount % scale !== 0) {
        return { field: "amount", why: `PayPal takes whole amounts of ${currency}` };
      }
      return undefined;
    },

    async createCheckout(req: CheckoutRequest): Promise<Checkout> {
      const value = toPayPalValue(req.amount, req.currency);
      const r = await api("POST", "/v2/checkout/orders", {
        intent: "CAPTURE",
        purchase_units: [{
          reference_id: req.paymentId,
          custom_id: req.paymentId,
          description: req.description.slice(0, 127),
          amount: { currency_code: req.currency, value },
        }],
        payment_source: {
          paypal: {
            experience_context: {
              user_action: "PAY_NOW",
              shipping_preference: "NO_SHIPPING",
              return_url: req.returnUrl,
              cancel_url: req.cancelUrl,
            },
          },
        },
      }, { "paypal-request-id": `capstan-order-${req.paymentId}`, prefer: "return=minimal" });
      const o = Order.safeParse(r.json);
      if ((r.status !== 200 && r.status !== 201) || !o.success) {
        throw failure("create the order", r.status, r.json);
      }
      const link = o.data.links?.find((l) => l.rel === "payer-action") ??
        o.data.links?.find((l) => l.rel === "approve");
      if (!link || !/^https:\/\/|^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(link.href)) {
        throw new PaymentProviderError("PayPal's order carries no approval link");
      }
      return { orderId: o.data.id, approveUrl: link.href };
    },

    async capture(orderId, paymentId, _currency): Promise<CaptureFact> {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(orderId)) throw new PaymentProviderError("bad order id");
      const path = `/v2/checkout/orders/${orderId}`;
      const r = await api("POST", `${path}/capture`, "{}", {
        "paypal-request-id": `capstan-capture-${paymentId}`,
        prefer: "return=representation",
      });
      if (r.status === 200 || r.status === 201) {
        const f = firstCapture(r.json);
        if (f) return f;
        throw new PaymentProviderError("PayPal's capture answer carries no capture");
      }
      const issue = failure("capture the order", r.status, r.json);
      if (r.status === 422 && issue.issue === "ORDER_ALREADY_CAPTURED") {
        // Another replica (or an earlier try whose answer was lost) captured it: read it back.
        const g = await api("GET", path, undefined);
        const f = g.status === 200 ? firstCapture(g.json) : undefined;
        if (f) return f;
        throw failure("show the captured order", g.status, g.json);
      }
      throw issue;
    },

    async verifyWebhook(headers, rawBody): Promise<WebhookFact> {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        throw new WebhookRefused("the body is not JSON");
      }
      const ev = Event.safeParse(parsed);
      if (!ev.success) throw new WebhookRefused("the body is not a PayPal webhook event");
      const h = (n: string) => headers.get(n) ?? "";
      const fields = {
        auth_algo: h("paypal-auth-algo"),
        cert_url: h("paypal-cert-url"),
        transmission_id: h("paypal-transmission-id"),
        transmission_sig: h("paypal-transmission-sig"),
        transmission_time: h("paypal-transmission-time"),
        webhook_id: s.webhookId,
      };
      const missing = Object.entries(fields).filter(([, v]) => !v || v.length > 2000);
      if (missing.length) {
        throw new WebhookRefused(`missing PayPal header: ${missing.map(([k]) => k).join(", ")}`);
      }
      // The event goes back exactly as received (PayPal's signature covers those bytes; a
      // re-serialized event could differ in spacing or number formatting and fail to verify).
      const body = `${JSON.stringify(fields).slice(0, -1)},"webhook_event":${rawBody}}`;
      const r = await api("POST", "/v1/notifications/verify-webhook-signature", body);
      if (r.status !== 200) throw failure("verify a webhook signature", r.status, r.json);
      const status = (r.json as { verification_status?: unknown } | undefined)
        ?.verification_status;
      if (status !== "SUCCESS") throw new WebhookRefused("PayPal did not verify the signature");

      const { id: eventId, event_type: eventType, resource } = ev.data;
      if (
        eventType === "PAYMENT.CAPTURE.COMPLETED" || eventType === "PAYMENT.CAPTURE.DENIED" ||
        eventType === "PAYMENT.CAPTURE.PENDING"
      ) {
        const c = Capture.safeParse(resource);
        if (!c.success) throw new WebhookRefused(`${eventType} without a capture resource`);
        const fact = captureFact(c.data);
        // The event's type is what happened (a DENIED capture's status says DECLINED).
        const kind = eventType === "PAYMENT.CAPTURE.COMPLETED"
          ? "completed"
          : eventType === "PAYMENT.CAPTURE.DENIED"
          ? "denied"
          : "pending";
        return { kind: "capture", eventId, eventType, fact: { ...fact, kind } as CaptureFact };
      }
      if (eventType === "PAYMENT.CAPTURE.REFUNDED") {
        const rf = Refund.safeParse(resource);
        if (!rf.success) throw new WebhookRefused(`${eventType} without a refund resource`);
        // The refund's "up" link names the capture it returns money from.
        const up = rf.data.links?.find((l) => l.rel === "up")?.href ?? "";
        const captureId = /\/v2\/payments\/captures\/([A-Za-z0-9-]{1,64})$/.exec(up)?.[1];
        const amount = fromPayPalValue(rf.data.amount.value, rf.data.amount.currency_code);
        if (!captureId || amount === undefined) {
          throw new WebhookRefused(`${eventType} names no capture or no amount`);
        }
        return {
          kind: "capture",
          eventId,
          eventType,
          fact: {
            kind: "refunded",
            refundId: rf.data.id,
            captureId,
            paymentId: rf.data.custom_id,
            amount,
            currency: rf.data.amount.currency_code,
          },
        };
      }
      return { kind: "ignored", eventId, eventType };
    },
  };
}
