/**
 * A loopback stand-in for PayPal's REST API (Deno.serve on 127.0.0.1:0), speaking the documented
 * request and response shapes of the calls Capstan makes: OAuth2 client-credentials tokens,
 * Orders v2 create / capture / show, and webhook signature verification. It checks what it is
 * sent (Basic and Bearer auth, body fields, PayPal-Request-Id) and records every shape problem
 * in `problems`, which tests assert empty. It is not PayPal: Capstan was not run against PayPal.
 *
 * "Signatures": `deliver()` makes a webhook delivery with PayPal's transmission headers and
 * remembers (transmission id → signature, body); verification answers SUCCESS only for a
 * remembered transmission whose signature and event match what was delivered.
 */

export const CLIENT_ID = "AcapstanTestClient";
export const CLIENT_SECRET = "EsecretNeverShown-1234";
export const WEBHOOK_ID = "8PT597110X687430LKGECATA";

interface Order {
  id: string;
  requestId: string;
  body: Record<string, unknown>;
  currency: string;
  value: string;
  customId: string;
  referenceId: string;
  approved: boolean;
  capture?: { id: string; requestId: string; status: string; value: string; currency: string };
}

export interface StandIn {
  url: string;
  /** The env for testApp: CAPSTAN_PAYPAL_* pointing at this stand-in. */
  env: Record<string, string>;
  /** Shape problems seen in requests (a test asserts this is empty). */
  problems: string[];
  /** Requests by "METHOD /path". */
  calls: string[];
  orders: Map<string, Order>;
  /** When set, every endpoint answers 503 (PayPal down). */
  down: boolean;
  /** When set, verifications wait for it before answering (PayPal slow). */
  hold?: Promise<void>;
  /** When set, captures report this value instead of the order's (a mismatch). */
  captureValue?: string;
  /** When set, captures come back with this status (e.g. "PENDING", "DECLINED"). */
  captureStatus?: string;
  /** The payer approves the order at PayPal. */
  approve(orderId: string): void;
  /** Every token issued so far stops working (PayPal revoked them early). */
  revokeTokens(): void;
  /** A webhook delivery PayPal would send for `event` (headers and the raw body). */
  deliver(event: Record<string, unknown>): { headers: Record<string, string>; body: string };
  /** A PAYMENT.CAPTURE.COMPLETED (or other capture) event for an order as captured/approved. */
  captureEvent(orderId: string, type?: string): Record<string, unknown>;
  close(): Promise<void>;
}

let seq = 0;
const id = (prefix: string) =>
  `${prefix}${Date.now().toString(36).toUpperCase()}${(++seq).toString().padStart(4, "0")}`;

/** Starts the stand-in. */
export function startPayPalStandIn(): StandIn {
  const tokens = new Set<string>();
  const orders = new Map<string, Order>();
  const byRequest = new Map<string, string>();
  const deliveries = new Map<string, { sig: string; event: string }>();
  const problems: string[] = [];
  const calls: string[] = [];
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "paypal-debug-id": "f00dcafe" },
    });
  const issue = (status: number, name: string, iss: string) =>
    json(status, {
      name,
      message: "The requested action could not be performed.",
      debug_id: "f00dcafe",
      details: [{ issue: iss, description: iss.toLowerCase().replaceAll("_", " ") }],
    });
  const problem = (p: string) => problems.push(p);

  const orderJson = (o: Order, api: string) => {
    const unit: Record<string, unknown> = {
      reference_id: o.referenceId,
      amount: { currency_code: o.currency, value: o.value },
      custom_id: o.customId,
    };
    if (o.capture) unit.payments = { captures: [captureJson(o, api)] };
    return {
      id: o.id,
      intent: "CAPTURE",
      status: o.capture ? "COMPLETED" : o.approved ? "APPROVED" : "PAYER_ACTION_REQUIRED",
      payment_source: { paypal: {} },
      purchase_units: [unit],
      create_time: "2026-12-03T22:00:00Z",
      links: [
        { href: `${api}/v2/checkout/orders/${o.id}`, rel: "self", method: "GET" },
        {
          href: `https://www.sandbox.paypal.com/checkoutnow?token=${o.id}`,
          rel: "payer-action",
          method: "GET",
        },
      ],
    };
  };
  const captureJson = (o: Order, api: string) => ({
    id: o.capture!.id,
    status: o.capture!.status,
    amount: { currency_code: o.capture!.currency, value: o.capture!.value },
    final_capture: true,
    custom_id: o.customId,
    seller_protection: { status: "ELIGIBLE", dispute_categories: ["ITEM_NOT_RECEIVED"] },
    supplementary_data: { related_ids: { order_id: o.id } },
    create_time: "2026-12-03T22:01:00Z",
    update_time: "2026-12-03T22:01:00Z",
    links: [
      { href: `${api}/v2/payments/captures/${o.capture!.id}`, rel: "self", method: "GET" },
      {
        href: `${api}/v2/payments/captures/${o.capture!.id}/refund`,
        rel: "refund",
        method: "POST",
      },
      { href: `${api}/v2/checkout/orders/${o.id}`, rel: "up", method: "GET" },
    ],
  });

  const bearer = (req: Request, what: string): boolean => {
    const a = req.headers.get("authorization") ?? "";
    const ok = a.startsWith("Bearer ") && tokens.has(a.slice(7));
    if (!ok) problem(`${what}: no valid Bearer token`);
    return ok;
  };

  let api = "";
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req: Request): Promise<Response> => {
    const u = new URL(req.url);
    calls.push(`${req.method} ${u.pathname}`);
    const text = await req.text();
    if (self.down) return issue(503, "SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE");

    if (req.method === "POST" && u.pathname === "/v1/oauth2/token") {
      const want = `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`;
      if (req.headers.get("authorization") !== want) {
        return json(401, {
          error: "invalid_client",
          error_description: "Client Authentication failed",
        });
      }
      if (!req.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded")) {
        problem("token: not form-encoded");
      }
      if (new URLSearchParams(text).get("grant_type") !== "client_credentials") {
        problem("token: grant_type is not client_credentials");
      }
      const t = `A21AA${crypto.randomUUID().replaceAll("-", "")}`;
      tokens.add(t);
      return json(200, {
        scope: "https://uri.paypal.com/services/payments/payment",
        access_token: t,
        token_type: "Bearer",
        app_id: "APP-80W284485P519543T",
        expires_in: 32400,
        nonce: "2026-12-03T22:00:00Zabc",
      });
    }

    if (req.method === "POST" && u.pathname === "/v2/checkout/orders") {
      if (!bearer(req, "create order")) return json(401, { name: "AUTHENTICATION_FAILURE" });
      const rid = req.headers.get("paypal-request-id");
      if (!rid) problem("create order: no PayPal-Request-Id");
      if (rid && byRequest.has(rid)) {
        return json(200, orderJson(orders.get(byRequest.get(rid)!)!, api));
      }
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(text);
      } catch {
        return issue(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON");
      }
      if (b.intent !== "CAPTURE") problem("create order: intent is not CAPTURE");
      const units = b.purchase_units as Record<string, unknown>[] | undefined;
      const unit = units?.[0];
      const amount = unit?.amount as { currency_code?: unknown; value?: unknown } | undefined;
      if (!unit || !amount) return issue(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER");
      const currency = String(amount.currency_code);
      const value = amount.value;
      if (typeof value !== "string") problem("create order: amount.value is not a string");
      const zeroDecimals = ["JPY", "HUF", "TWD"].includes(currency);
      const shape = zeroDecimals ? /^\d{1,10}$/ : /^\d{1,10}\.\d{2}$/;
      if (typeof value === "string" && !shape.test(value)) {
        return issue(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION");
      }
      if (typeof unit.custom_id !== "string" || typeof unit.reference_id !== "string") {
        problem("create order: no custom_id / reference_id");
      }
      const ctx = ((b.payment_source as Record<string, Record<string, unknown>>)?.paypal
        ?.experience_context ?? {}) as Record<string, unknown>;
      if (typeof ctx.return_url !== "string" || typeof ctx.cancel_url !== "string") {
        problem("create order: no return_url / cancel_url");
      }
      const o: Order = {
        id: id("5O"),
        requestId: rid ?? "",
        body: b,
        currency,
        value: String(value),
        customId: String(unit.custom_id),
        referenceId: String(unit.reference_id),
        approved: false,
      };
      orders.set(o.id, o);
      if (rid) byRequest.set(rid, o.id);
      return json(200, orderJson(o, api));
    }

    const cap = /^\/v2\/checkout\/orders\/([A-Z0-9]+)\/capture$/.exec(u.pathname);
    if (req.method === "POST" && cap) {
      if (!bearer(req, "capture")) return json(401, { name: "AUTHENTICATION_FAILURE" });
      const rid = req.headers.get("paypal-request-id");
      if (!rid) problem("capture: no PayPal-Request-Id");
      if (req.headers.get("content-type") !== "application/json") {
        problem("capture: content-type is not application/json");
      }
      const o = orders.get(cap[1]);
      if (!o) return issue(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID");
      if (o.capture) {
        // PayPal answers a retried request (same PayPal-Request-Id) with the same result.
        if (rid && rid === o.capture.requestId) return json(201, orderJson(o, api));
        return issue(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED");
      }
      if (!o.approved) return issue(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED");
      o.capture = {
        id: id("3C"),
        requestId: rid ?? "",
        status: self.captureStatus ?? "COMPLETED",
        value: self.captureValue ?? o.value,
        currency: o.currency,
      };
      return json(201, orderJson(o, api));
    }

    const show = /^\/v2\/checkout\/orders\/([A-Z0-9]+)$/.exec(u.pathname);
    if (req.method === "GET" && show) {
      if (!bearer(req, "show order")) return json(401, { name: "AUTHENTICATION_FAILURE" });
      const o = orders.get(show[1]);
      return o
        ? json(200, orderJson(o, api))
        : issue(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID");
    }

    if (req.method === "POST" && u.pathname === "/v1/notifications/verify-webhook-signature") {
      if (self.hold) await self.hold;
      if (!bearer(req, "verify")) return json(401, { name: "AUTHENTICATION_FAILURE" });
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(text);
      } catch {
        return issue(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON");
      }
      for (
        const k of [
          "auth_algo",
          "cert_url",
          "transmission_id",
          "transmission_sig",
          "transmission_time",
          "webhook_id",
          "webhook_event",
        ]
      ) if (b[k] === undefined) return issue(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER");
      if (b.webhook_id !== WEBHOOK_ID) return json(200, { verification_status: "FAILURE" });
      const d = deliveries.get(String(b.transmission_id));
      const ok = d !== undefined && d.sig === b.transmission_sig &&
        JSON.stringify(JSON.parse(d.event)) === JSON.stringify(b.webhook_event);
      return json(200, { verification_status: ok ? "SUCCESS" : "FAILURE" });
    }
    return issue(404, "NOT_FOUND", "NOT_FOUND");
  });

  const url = `http://127.0.0.1:${server.addr.port}`;
  api = url;
  const self: StandIn = {
    url,
    env: {
      CAPSTAN_PAYPAL_CLIENT_ID: CLIENT_ID,
      CAPSTAN_PAYPAL_CLIENT_SECRET: CLIENT_SECRET,
      CAPSTAN_PAYPAL_WEBHOOK_ID: WEBHOOK_ID,
      CAPSTAN_PAYPAL_API_BASE: url,
    },
    problems,
    calls,
    orders,
    down: false,
    revokeTokens() {
      tokens.clear();
    },
    approve(orderId) {
      const o = orders.get(orderId);
      if (!o) throw new Error(`no order ${orderId}`);
      o.approved = true;
    },
    deliver(event) {
      const tid = crypto.randomUUID();
      const sig = btoa(crypto.randomUUID() + crypto.randomUUID());
      const body = JSON.stringify(event);
      deliveries.set(tid, { sig, event: body });
      return {
        body,
        headers: {
          "content-type": "application/json",
          "paypal-auth-algo": "SHA256withRSA",
          "paypal-cert-url": `${url}/v1/notifications/certs/CERT-360caa42-fca2a594-aecacc47`,
          "paypal-transmission-id": tid,
          "paypal-transmission-sig": sig,
          "paypal-transmission-time": new Date().toISOString(),
        },
      };
    },
    captureEvent(orderId, type = "PAYMENT.CAPTURE.COMPLETED") {
      const o = orders.get(orderId);
      if (!o) throw new Error(`no order ${orderId}`);
      // The webhook may come before Capstan's own capture call returns: PayPal captured it.
      o.capture ??= {
        id: id("3C"),
        requestId: "",
        status: "COMPLETED",
        value: self.captureValue ?? o.value,
        currency: o.currency,
      };
      const resource = captureJson(o, url);
      return {
        id: id("WH-"),
        event_version: "1.0",
        create_time: "2026-12-03T22:01:05.000Z",
        resource_type: "capture",
        resource_version: "2.0",
        event_type: type,
        summary: `Payment completed for ${o.value} ${o.currency}`,
        resource,
        links: [{ href: `${url}/v1/notifications/webhooks-events/X`, rel: "self", method: "GET" }],
      };
    },
    async close() {
      await server.shutdown();
    },
  };
  return self;
}
