/**
 * Quotas (lib/quotas): an organization's limits and its use, readable by its members; install
 * defaults and per-organization overrides (with a reason and an optional expiry), written by
 * platform admins only and audited. Over a limit, intents elsewhere answer 409 `quota_exceeded`
 * with `error.quota` = {resource, unit, limit, used, requested}; 507 is another thing (the
 * cluster has no node with room).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { RESOURCE_INFO, RESOURCES } from "../../../lib/quotas/resources.ts";
import { notFound } from "../../../lib/http/errors.ts";
import { OVERVIEW_PAGE, overviewOf } from "../../../lib/quotas/overview.ts";
import type { AppContext } from "../../../lib/http/context.ts";

const Amount = z.number().int().nullable();

const OverrideSchema = z.object({
  value: Amount.openapi({ description: "null: unlimited for this organization" }),
  reason: z.string(),
  expires_at: z.number().int().nullable().openapi({
    description: "ms since the epoch; past it the default applies again",
  }),
  set_by: z.string().nullable(),
  set_at: z.number().int(),
}).openapi("QuotaOverride");

const LineSchema = z.object({
  resource: z.enum(RESOURCES),
  label: z.string(),
  unit: z.string().openapi({
    description: "millicores, bytes, apps, replicas, minutes, GiB (egress: 2^30 bytes)",
  }),
  limit: Amount.openapi({ description: "In force now; null: unlimited" }),
  source: z.enum(["override", "default", "none"]),
  default: Amount,
  override: OverrideSchema.extend({ expired: z.boolean() }).nullable(),
  used: Amount.openapi({ description: "null: not measured yet (storage, egress)" }),
  level: z.enum(["ok", "warning", "critical", "full", "over"]).openapi({
    description: "As the 30 s watch last found it (80 % warning, 90 % critical, 100 % full, " +
      "above the limit over), with hysteresis; ok when never measured",
  }),
  since: z.number().int().nullable().openapi({
    description: "When the level was entered (ms); null when never measured",
  }),
  grace_ends_at: z.number().int().nullable().openapi({
    description: "Over the limit: when the grace period ends (ms), after which deploys are " +
      "blocked (and, if configured, apps stopped)",
  }),
  blocked: z.boolean().openapi({
    description: "The violation's grace period ended: deploys are blocked",
  }),
}).openapi("QuotaLine");

const ViewSchema = z.object({
  items: z.array(LineSchema),
  blocked: z.string().nullable().openapi({ description: "Why deploys are blocked, if they are" }),
}).openapi("Quotas");

const DefaultsSchema = z.record(z.string(), z.number().int()).openapi("QuotaDefaults", {
  description: "Resource → default limit; an absent resource is unlimited",
});

const ResourceParams = OrgParam.extend({
  resource: z.enum(RESOURCES).openapi({ param: { name: "resource", in: "path" } }),
});

// The service checks these again (lib/quotas/service.ts); here they make the document and the 400.
const DefaultsPatch = z.object(
  Object.fromEntries(
    RESOURCES.map((r) => [
      r,
      z.number().int().min(0).max(RESOURCE_INFO[r].max).nullable().optional().openapi({
        description: `${RESOURCE_INFO[r].label}, in ${RESOURCE_INFO[r].unit}; null: unlimited`,
      }),
    ]),
  ),
).strict().openapi("QuotaDefaultsPatch");

const OverrideInput = z.object({
  value: z.number().int().min(0).nullable().openapi({
    description: "In the resource's unit; null: unlimited for this organization",
  }),
  reason: z.string().trim().min(1).max(500),
  expires_at: z.number().int().positive().nullable().optional().openapi({
    description: "ms since the epoch, in the future; absent or null: no expiry",
  }),
}).strict().openapi("QuotaOverrideInput");

const QuotaExceededSchema = z.object({
  error: z.object({
    code: z.literal("quota_exceeded"),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
    quota: z.object({
      resource: z.enum(RESOURCES),
      unit: z.string(),
      limit: z.number().int(),
      used: z.number().int(),
      requested: z.number().int(),
    }),
  }),
}).openapi("QuotaExceeded", {
  description: "Answered with 409 by app create/update/scale/deploy/start/rollback, template " +
    "deploy and build start when the organization's quota would be exceeded",
});

const viewAdmin = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/quotas/orgs/{org}",
  tags: ["quotas"],
  summary: "Any organization's quotas (platform admins): as GET /api/v1/orgs/{org}/quotas",
  request: { params: OrgParam },
  responses: {
    200: jsonResponse(ViewSchema, "Quotas and use"),
    404: jsonResponse(z.any(), "No such organization"),
  },
});

const OverviewSchema = z.object({
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  items: z.array(z.object({
    org: z.object({ slug: z.string(), name: z.string() }),
    max_pct: z.number().int().nullable().openapi({
      description: "The highest percentage of a limit any resource uses; null: nothing limited",
    }),
    resources: z.array(z.object({
      resource: z.enum(RESOURCES),
      label: z.string(),
      used: z.number().int(),
      limit: z.number().int().nullable(),
      pct: z.number().int().nullable(),
      level: z.enum(["ok", "warning", "critical", "full", "over"]),
      grace_ends_at: z.number().int().nullable(),
      blocked: z.boolean(),
    })),
    wallet: z.object({
      balance: z.number().int().openapi({ description: "Minor units of the currency" }),
      currency: z.string(),
      state: z.enum(["ok", "grace", "blocked"]),
      ends_at: z.number().int().nullable(),
    }),
    month_charges: z.number().int().openapi({
      description: "Charged for this UTC month's billed hours, minor units",
    }),
  })),
}).openapi("QuotaOverview");

const overview = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/quotas/overview",
  tags: ["quotas"],
  summary: "Every organization's consumption: use vs limit per resource (as the 30 s job last " +
    "stored it), level, grace, wallet balance and this month's charges; highest % first, 50 a page",
  request: {
    query: z.object({
      offset: z.coerce.number().int().min(0).max(100_000).default(0),
    }),
  },
  responses: { 200: jsonResponse(OverviewSchema, "One page") },
});

const view = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/quotas",
  tags: ["quotas"],
  summary: "The organization's quotas: per resource the limit in force, where it comes from, " +
    "and the use now",
  request: { params: OrgParam },
  responses: {
    200: jsonResponse(ViewSchema, "Quotas and use"),
    409: jsonResponse(QuotaExceededSchema, "(documents the error other routes answer)"),
  },
});

const getDefaults = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/quotas/defaults",
  tags: ["quotas"],
  summary: "The install's default limits",
  responses: { 200: jsonResponse(DefaultsSchema, "Defaults") },
});

const setDefaults = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/quotas/defaults",
  tags: ["quotas"],
  summary: "Set default limits: a whole number per resource given, null makes it unlimited; " +
    "resources not named are left as they are",
  request: { ...jsonBody(DefaultsPatch) },
  responses: { 200: jsonResponse(DefaultsSchema, "Defaults now") },
});

const setOverride = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/quotas/orgs/{org}/overrides/{resource}",
  tags: ["quotas"],
  summary: "Set an organization's own limit of one resource, with a reason and optional expiry",
  request: { params: ResourceParams, ...jsonBody(OverrideInput) },
  responses: { 200: jsonResponse(OverrideSchema, "Set") },
});

const clearOverride = apiRoute("platform_admin", {
  method: "delete",
  path: "/api/v1/quotas/orgs/{org}/overrides/{resource}",
  tags: ["quotas"],
  summary: "Remove an organization's override (the default applies again)",
  request: { params: ResourceParams },
  responses: { 204: { description: "Removed" } },
});

async function orgOf(c: AppContext, slug: string) {
  const org = await c.var.services.orgs.bySlug(slug);
  if (!org) throw notFound("organization");
  return org;
}

/** An org's lines, each with its stored standing (level, since, grace, blocked). */
async function quotaView(c: AppContext, orgId: string) {
  const { quotas, quotaWatch, clock } = c.var.services;
  const now = clock.now();
  const [lines, blocked, standings] = await Promise.all([
    quotas.view(orgId),
    quotas.blocked(orgId),
    quotaWatch.standings(orgId),
  ]);
  const items = lines.map((l) => {
    const st = standings[l.resource];
    return {
      ...l,
      level: st?.level ?? "ok" as const,
      since: st?.since ?? null,
      grace_ends_at: st?.level === "over" ? st.grace_ends_at : null,
      // Blocked from the instant grace ends, before the job writes it (as admission decides).
      blocked: st?.level === "over" &&
        (st.blocked || (st.grace_ends_at !== null && now >= st.grace_ends_at)),
    };
  });
  return { items, blocked: blocked ?? null };
}

/** Quota endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(view, async (c) => c.json(await quotaView(c, orgScopeOf(c).org.id), 200));

  app.openapi(overview, async (c) => {
    const { offset } = c.req.valid("query");
    const page = await overviewOf(c.var.services, offset);
    return c.json({ ...page, offset, limit: OVERVIEW_PAGE }, 200);
  });

  app.openapi(viewAdmin, async (c) => {
    const org = await orgOf(c, c.req.valid("param").org);
    return c.json(await quotaView(c, org.id), 200);
  });

  app.openapi(getDefaults, async (c) => c.json(await c.var.services.quotas.defaults(), 200));

  app.openapi(setDefaults, async (c) => {
    const d = await c.var.services.quotas.setDefaults(actionContext(c), c.req.valid("json"));
    return c.json(d, 200);
  });

  app.openapi(setOverride, async (c) => {
    const { org: slug, resource } = c.req.valid("param");
    const org = await orgOf(c, slug);
    const o = await c.var.services.quotas.setOverride(
      actionContext(c),
      org.id,
      resource,
      c.req.valid("json"),
    );
    return c.json(o, 200);
  });

  app.openapi(clearOverride, async (c) => {
    const { org: slug, resource } = c.req.valid("param");
    const org = await orgOf(c, slug);
    await c.var.services.quotas.clearOverride(actionContext(c), org.id, resource);
    return c.body(null, 204);
  });
}
