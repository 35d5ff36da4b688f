/**
 * Billing (lib/billing/BILLING.md): an organization's balance and wallet standing, ledger, billed
 * hours with their line items, a CSV of the line items, the projected cost of what runs now and
 * its price plan — read by its members (`/api/v1/orgs/{org}/billing/*`). Platform admins set the install's default
 * plan and per-org overrides, and top up, refund or adjust a wallet with a note. Money moves only
 * by ledger entries; every change is audited.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../lib/http/context.ts";
import { HttpError, notFound } from "../../../lib/http/errors.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { WebhookRefused } from "../../../lib/billing/payments/provider.ts";

/** A PayPal webhook event is a few KB; far more is not PayPal's. */
export const WEBHOOK_MAX_BYTES = 64 * 1024;

const DAY_MS = 86_400_000;

const Page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
const Range = z.object({
  from: z.coerce.number().int().min(0).optional().openapi({
    description: "Start (ms since the epoch, inclusive); default 30 days before `to`",
  }),
  to: z.coerce.number().int().min(0).optional().openapi({
    description: "End (ms since the epoch, exclusive); default now",
  }),
});

/** The range asked for, defaulted; 400 naming `from` when it does not come before `to`. */
function rangeOf(c: AppContext, q: { from?: number; to?: number }) {
  const to = q.to ?? c.var.services.billing.now();
  const from = q.from ?? to - 30 * DAY_MS;
  if (from >= to) {
    throw new HttpError(400, "validation", "Invalid input: from must come before to", {
      from: "must come before to",
    });
  }
  return { from, to };
}

const Standing = z.object({
  state: z.enum(["ok", "grace", "blocked"]),
  started_at: z.number().int().nullable().openapi({ description: "When grace started (ms)" }),
  ends_at: z.number().int().nullable().openapi({
    description: "When grace ends and deploys are blocked (ms)",
  }),
}).openapi("WalletStanding");

const BalanceSchema = z.object({
  balance: z.number().int().openapi({ description: "The ledger's sum, minor units" }),
  currency: z.string(),
  wallet: Standing,
}).openapi("BillingBalance");

const EntrySchema = z.object({
  id: z.string(),
  at: z.number().int(),
  kind: z.enum(["top_up", "charge", "refund", "adjustment"]),
  amount: z.number().int().openapi({ description: "Signed, minor units" }),
  currency: z.string(),
  reference: z.string().nullable().openapi({ description: "A charge's cycle id" }),
  actor: z.string().openapi({ description: "`user:<id>`, `system:billing`" }),
  note: z.string().nullable(),
}).openapi("LedgerEntry");

const ItemSchema = z.object({
  hour: z.number().int(),
  app_id: z.string().openapi({
    description: "The app; empty for the organization's data outside any app (snapshots)",
  }),
  resource: z.string().openapi({ description: "cpu | memory | storage | egress | build" }),
  quantity: z.string().openapi({
    description:
      "A decimal integer: millicore-seconds (cpu), byte-seconds (memory, storage), bytes (egress), minutes (build, each build rounded up)",
  }),
  unit_price: z.number().int().openapi({
    description:
      "Minor units per core-hour, GiB-hour, GiB-month of 730 h (storage), GiB of 2^30 bytes (egress) or build minute",
  }),
  amount: z.number().int(),
}).openapi("BillingLineItem");

const CycleSchema = z.object({
  id: z.string(),
  hour: z.number().int().openapi({ description: "Start of the billed hour (ms)" }),
  currency: z.string(),
  total: z.number().int(),
  items: z.array(ItemSchema),
}).openapi("BillingCycle");

const ProjectionSchema = z.object({
  currency: z.string(),
  per_hour: z.number().int(),
  per_day: z.number().int(),
  per_month: z.number().int().openapi({ description: "730 hours" }),
  apps: z.array(z.object({ app_id: z.string(), per_hour: z.number().int() })),
}).openapi("BillingProjection");

// The same shapes as lib/billing's schemas (which the service checks again), with OpenAPI names.
const Minor = z.number().int().min(0).max(1_000_000_000);
const PlanSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/, "must be a 3-letter currency code like EUR"),
  cpu_core_hour: Minor.openapi({ description: "Per core-hour reserved, minor units" }),
  memory_gib_hour: Minor.openapi({ description: "Per GiB-hour of memory reserved" }),
  storage_gib_month: Minor.openapi({
    description: "Per GiB-month stored (730 h), volumes and snapshot data",
  }),
  egress_gib: Minor.openapi({ description: "Per GiB (2^30 bytes) app containers transmitted" }),
  build_minute: Minor.openapi({
    description: "Per build minute (each build rounded up to a minute)",
  }),
}).strict().openapi("PricePlan");
const MoneyMoveSchema = z.object({
  kind: z.enum(["top_up", "refund", "adjustment"]),
  amount: z.number().int().min(-1_000_000_000_000).max(1_000_000_000_000).openapi({
    description: "Minor units: positive for a top-up or refund, either sign for an adjustment",
  }),
  note: z.string().trim().min(1, "a note is required").max(1000),
}).strict().openapi("BillingMoneyMove");
const OrgPlanSchema = z.object({
  plan: PlanSchema,
  override: z.boolean().openapi({ description: "The org's own plan (else the install's)" }),
}).openapi("OrgPricePlan");

const AdminOrgParam = z.object({ org: z.string().min(1).max(64) });

const getBalance = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/balance",
  tags: ["billing"],
  summary: "The wallet's balance (derived from the ledger), currency and grace standing",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(BalanceSchema, "The balance") },
});

const listLedger = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/ledger",
  tags: ["billing"],
  summary: "Ledger entries, newest first",
  request: { params: OrgParam, query: Page },
  responses: { 200: jsonResponse(z.object({ items: z.array(EntrySchema) }), "Entries") },
});

const listCycles = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/cycles",
  tags: ["billing"],
  summary: "Billed hours in a date range, newest first, with line items by app and resource",
  request: { params: OrgParam, query: Page.merge(Range) },
  responses: { 200: jsonResponse(z.object({ items: z.array(CycleSchema) }), "Cycles") },
});

const exportCsv = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/export.csv",
  tags: ["billing"],
  summary: "The line items of a period as CSV, oldest first (at most 100,000 rows)",
  request: { params: OrgParam, query: Range },
  responses: {
    200: { description: "text/csv", content: { "text/csv": { schema: z.string() } } },
  },
});

const getProjection = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/projection",
  tags: ["billing"],
  summary: "Projected cost per hour, day and month of what runs now, under the org's plan",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(ProjectionSchema, "The projection") },
});

const EstimateSchema = z.object({
  services: z.array(
    z.object({
      replicas: z.number().int().min(0).max(100).default(1),
      global: z.boolean().default(false).openapi({
        description: "Counted as one task (the node count is not known here)",
      }),
      cpus: z.number().min(0).max(1024).default(0).openapi({
        description: "Reserved cores per task (the spec's resources.reservations.cpus)",
      }),
      memory_bytes: z.number().int().min(0).max(2 ** 50).default(0).openapi({
        description: "Reserved memory per task (resources.reservations.memory_bytes)",
      }),
    }).strict(),
  ).min(1).max(64),
}).strict().openapi("BillingEstimateInput");

const estimate = apiRoute("org:viewer", {
  method: "post",
  path: "/api/v1/orgs/{org}/billing/estimate",
  tags: ["billing"],
  summary: "What a proposed app's reservations would cost per hour, day and month",
  description: "Priced through the meter under the org's plan, like the projection; for the " +
    "new-app, template and scale forms before the user confirms. Nothing is stored.",
  request: { params: OrgParam, ...jsonBody(EstimateSchema) },
  responses: { 200: jsonResponse(ProjectionSchema.omit({ apps: true }), "The estimate") },
});

const getPlan = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/plan",
  tags: ["billing"],
  summary: "The price plan the org is billed by",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(OrgPlanSchema, "The plan") },
});

const setDefaultPlan = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/billing/plans/default",
  tags: ["billing"],
  summary: "Set the install's default price plan (platform admins)",
  request: jsonBody(PlanSchema),
  responses: { 200: jsonResponse(PlanSchema, "Set") },
});

const setOrgPlan = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/billing/orgs/{org}/plan",
  tags: ["billing"],
  summary: "Set an organization's own price plan (platform admins)",
  request: { params: AdminOrgParam, ...jsonBody(PlanSchema) },
  responses: { 200: jsonResponse(PlanSchema, "Set") },
});

const clearOrgPlan = apiRoute("platform_admin", {
  method: "delete",
  path: "/api/v1/billing/orgs/{org}/plan",
  tags: ["billing"],
  summary: "Remove an organization's own plan: it is billed by the default again",
  request: { params: AdminOrgParam },
  responses: { 204: { description: "Removed" } },
});

const addEntry = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/billing/orgs/{org}/entries",
  tags: ["billing"],
  summary: "Top up, refund or adjust an organization's wallet, with a note (platform admins)",
  description: "A top-up and a refund are positive, an adjustment is either sign; minor units " +
    "of the org's plan currency. A move that brings the balance to zero or more ends grace and " +
    "deploy blocking at once.",
  request: { params: AdminOrgParam, ...jsonBody(MoneyMoveSchema) },
  responses: { 201: jsonResponse(EntrySchema, "Appended") },
});

const PaymentSchema = z.object({
  id: z.string(),
  org_id: z.string(),
  amount: z.number().int().openapi({ description: "Minor units of `currency`" }),
  currency: z.string(),
  provider: z.string().openapi({ description: "paypal" }),
  provider_order_id: z.string().nullable(),
  approve_url: z.string().nullable().openapi({
    description: "Where the payer approves it at the provider",
  }),
  capture_id: z.string().nullable().openapi({
    description: "The provider's capture id: the ledger top-up's reference is `paypal:<it>`",
  }),
  status: z.enum(["created", "approved", "captured", "denied", "failed", "cancelled"]),
  error: z.string().nullable(),
  created_by: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("Payment");

const PaymentParams = OrgParam.extend({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

const listPayments = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/billing/payments",
  tags: ["billing"],
  summary: "Online top-ups (PayPal) of the org, newest first",
  request: { params: OrgParam, query: Page },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(PaymentSchema),
        provider: z.string().nullable().openapi({
          description: "The configured provider (PayPal), or null: no online top-ups",
        }),
      }),
      "Payments",
    ),
  },
});

const startPayment = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/billing/payments",
  tags: ["billing"],
  summary: "Start a wallet top-up through PayPal (org admins): answers the URL to approve it at",
  description: "In the org's plan currency, minor units, from 1 to 100,000 major units. The " +
    "payer approves at `approve_url`; PayPal sends them back to the hub's return page, which " +
    "captures and credits the wallet once (the webhook credits it if they never come back). " +
    "503 `provider_down` when PayPal cannot be reached (nothing charged), 503 " +
    "`payments_unconfigured` when CAPSTAN_PAYPAL_* are not set.",
  request: {
    params: OrgParam,
    ...jsonBody(
      z.object({
        amount: z.number().int("must be whole minor units (cents)").min(1).max(1e12).openapi({
          description: "Minor units of the org's currency (1050 = 10.50 EUR)",
        }),
      }).strict().openapi("PaymentStart"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({ payment: PaymentSchema, approve_url: z.string() }),
      "Started: send the payer to approve_url",
    ),
  },
});

const capturePayment = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/billing/payments/{id}/capture",
  tags: ["billing"],
  summary: "Capture an approved top-up and credit the wallet (once, however often it is asked)",
  request: { params: PaymentParams },
  responses: {
    200: jsonResponse(
      z.object({
        payment: PaymentSchema,
        outcome: z.string().openapi({ description: "credited, already, pending, denied, …" }),
      }),
      "Settled",
    ),
  },
});

const paypalWebhook = apiRoute("public", {
  method: "post",
  path: "/api/v1/billing/paypal/webhook",
  tags: ["billing"],
  summary: "PayPal's webhook (PAYMENT.CAPTURE.COMPLETED, DENIED, PENDING, REFUNDED)",
  description: "No session: each delivery is verified by PayPal's verify-webhook-signature API " +
    "before anything is applied. 200 for an applied, repeated or ignored event; 401 when the " +
    "signature does not verify (audited); 413 over 64 KB; 503 when PayPal cannot be asked (it " +
    "retries) or top-ups are not configured.",
  request: {},
  responses: {
    200: jsonResponse(z.object({ outcome: z.string() }), "Applied, repeated or ignored"),
    400: jsonResponse(z.any(), "Not JSON"),
    401: jsonResponse(z.any(), "Signature not verified"),
    413: jsonResponse(z.any(), "Body over 64 KB"),
    503: jsonResponse(z.any(), "PayPal unreachable, or top-ups not configured"),
  },
});

/** The organization a platform admin names by slug (404 when there is none). */
async function adminOrg(c: AppContext, slug: string) {
  const org = await c.var.services.orgs.bySlug(slug);
  if (!org) throw notFound("organization");
  return org;
}

/** Billing endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(getBalance, async (c) => {
    return c.json(await c.var.services.billing.summary(orgScopeOf(c).org.id), 200);
  });

  app.openapi(listLedger, async (c) => {
    const { limit, offset } = c.req.valid("query");
    const items = await c.var.services.billing.entries(orgScopeOf(c).org.id, { limit, offset });
    return c.json({ items }, 200);
  });

  app.openapi(listCycles, async (c) => {
    const q = c.req.valid("query");
    const items = await c.var.services.billing.cycles(orgScopeOf(c).org.id, {
      ...rangeOf(c, q),
      limit: q.limit,
      offset: q.offset,
    });
    return c.json({ items }, 200);
  });

  app.openapi(exportCsv, async (c) => {
    const { org } = orgScopeOf(c);
    const { from, to } = rangeOf(c, c.req.valid("query"));
    const { currency } = (await c.var.services.billing.plan(org.id)).plan;
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    return c.body(c.var.services.billing.csv(org.id, currency, from, to), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${org.slug}-billing-${day(from)}-${
        day(to)
      }.csv"`,
    });
  });

  app.openapi(getProjection, async (c) => {
    return c.json(await c.var.services.billing.projection(orgScopeOf(c).org.id), 200);
  });

  app.openapi(estimate, async (c) => {
    const e = await c.var.services.billing.estimate(orgScopeOf(c).org.id, c.req.valid("json"));
    return c.json(e, 200);
  });

  app.openapi(getPlan, async (c) => {
    return c.json(await c.var.services.billing.plan(orgScopeOf(c).org.id), 200);
  });

  app.openapi(setDefaultPlan, async (c) => {
    const plan = await c.var.services.billing.setPlan(
      actionContext(c),
      undefined,
      c.req.valid("json"),
    );
    return c.json(plan, 200);
  });

  app.openapi(setOrgPlan, async (c) => {
    const org = await adminOrg(c, c.req.valid("param").org);
    const plan = await c.var.services.billing.setPlan(actionContext(c), org, c.req.valid("json"));
    return c.json(plan, 200);
  });

  app.openapi(clearOrgPlan, async (c) => {
    const org = await adminOrg(c, c.req.valid("param").org);
    await c.var.services.billing.clearPlan(actionContext(c), org);
    return c.body(null, 204);
  });

  app.openapi(listPayments, async (c) => {
    const { limit, offset } = c.req.valid("query");
    const p = c.var.services.billingPayments;
    const items = await p.list(orgScopeOf(c).org.id, { limit, offset });
    return c.json({ items, provider: p.provider?.label ?? null }, 200);
  });

  app.openapi(startPayment, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.billingPayments.start(
      actionContext(c),
      org,
      c.req.valid("json"),
    );
    return c.json(r, 201);
  });

  app.openapi(capturePayment, async (c) => {
    const r = await c.var.services.billingPayments.complete(
      actionContext(c),
      orgScopeOf(c).org.id,
      c.req.valid("param").id,
    );
    return c.json(r, 200);
  });

  app.openapi(paypalWebhook, async (c) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > WEBHOOK_MAX_BYTES) {
      throw new HttpError(413, "too_large", `A webhook body is at most ${WEBHOOK_MAX_BYTES} bytes`);
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > WEBHOOK_MAX_BYTES) {
      throw new HttpError(413, "too_large", `A webhook body is at most ${WEBHOOK_MAX_BYTES} bytes`);
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new HttpError(400, "validation", "The body is not UTF-8 JSON");
    }
    try {
      const outcome = await c.var.services.billingPayments.webhook(c.req.raw.headers, text);
      return c.json({ outcome }, 200);
    } catch (err) {
      if (err instanceof WebhookRefused) {
        throw new HttpError(401, "bad_signature", `Webhook refused: ${err.message}`);
      }
      throw err;
    }
  });

  app.openapi(addEntry, async (c) => {
    const org = await adminOrg(c, c.req.valid("param").org);
    const e = await c.var.services.billing.move(actionContext(c), org.id, c.req.valid("json"));
    return c.json(e, 201);
  });
}
