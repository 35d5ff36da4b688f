import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { HostId } from "../../_schemas/docker.ts";
import {
  CHECK_KINDS,
  CHECK_STATES,
  CheckCreateInput,
  CheckUpdateInput,
} from "../../../lib/health/schema.ts";
import { MAX_HISTORY, MAX_LIST, SERIES_RANGES } from "../../../lib/health/service.ts";

const CheckParams = OrgParam.merge(IdParam);

const LastResult = z.object({
  at: z.number().int(),
  ok: z.boolean(),
  response_ms: z.number().nullable(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
});

const CheckSchema = z.object({
  id: z.string(),
  org_id: z.string(),
  host_id: z.string(),
  host_name: z.string(),
  container_id: z.string(),
  container_name: z.string(),
  name: z.string(),
  kind: z.enum(CHECK_KINDS),
  config: z.record(z.string(), z.unknown()).openapi({
    description: "The probe: http {method, scheme, host?, port, path, expect_status, " +
      "body_contains?, headers, follow_redirects}, tcp {port}, command {argv}, docker {}",
  }),
  interval_s: z.number().int(),
  timeout_s: z.number().int(),
  retries: z.number().int(),
  start_delay_s: z.number().int(),
  source: z.enum(["manual", "label"]).openapi({
    description: "label: declared by capstan.health.* container labels (only enabled can change)",
  }),
  enabled: z.boolean(),
  state: z.enum(CHECK_STATES),
  state_since: z.number().int(),
  consecutive_failures: z.number().int(),
  consecutive_successes: z.number().int(),
  last: LastResult.nullable(),
  created_by: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  container_gone_at: z.number().int().nullable().openapi({
    description: "When the container was found removed: the check no longer runs and raises no " +
      "alert until a container of that name is back (null while it is there)",
  }),
}).openapi("HealthCheck");

const Uptime = z.object({
  "24h": z.number().nullable(),
  "7d": z.number().nullable(),
  "30d": z.number().nullable(),
}).openapi({ description: "Share of successful results in %, null without results" });

const Counts = z.object({
  unknown: z.number().int(),
  healthy: z.number().int(),
  unhealthy: z.number().int(),
});

const ListQuery = z.object({
  state: z.enum(CHECK_STATES).optional(),
  host: HostId.optional(),
  container: z.string().regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/, "a container name or id")
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST).default(500),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const list = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/health-checks",
  tags: ["health"],
  summary: "Health checks of the organization, with counts by state",
  description: "Counts cover the host/container filters but not the state filter (for tabs).",
  request: { params: OrgParam, query: ListQuery },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(CheckSchema), total: z.number().int(), counts: Counts }),
      "Checks",
    ),
  },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/health-checks/{id}",
  tags: ["health"],
  summary: "One health check with its uptime over 24 h, 7 d and 30 d",
  request: { params: CheckParams },
  responses: { 200: jsonResponse(CheckSchema.extend({ uptime: Uptime }), "Check") },
});

const create = apiRoute("org:member", {
  method: "post",
  path: "/api/v1/orgs/{org}/health-checks",
  tags: ["health"],
  summary: "Start monitoring a container",
  description: "The host's agent runs the check next to the container. `http` takes `port` and " +
    "`path` on the container's address, or an absolute http(s) `url`; a `url` or `host` on a " +
    "loopback or private address other than the container's own needs the admin role (403), " +
    "link-local and metadata addresses are refused (400). `command` takes `argv`, an argument " +
    "array run inside the container (never a shell string); it needs the right to run " +
    "commands in containers (admins, or members when the organization allows it; 403). " +
    "`docker` reads the image's own HEALTHCHECK. The state changes after `retries` " +
    "consecutive results of the other kind; results within `start_delay_s` of the " +
    "container's start do not count.",
  request: { params: OrgParam, ...jsonBody(CheckCreateInput) },
  responses: { 201: jsonResponse(CheckSchema, "Created") },
});

const update = apiRoute("org:member", {
  method: "patch",
  path: "/api/v1/orgs/{org}/health-checks/{id}",
  tags: ["health"],
  summary: "Change a health check (checks declared by labels take only `enabled`)",
  description: "What a check probes changes under the same rights as creating it: a command " +
    "check's command needs the right to run commands in containers, a private target the " +
    "admin role (403).",
  request: { params: CheckParams, ...jsonBody(CheckUpdateInput) },
  responses: {
    200: jsonResponse(CheckSchema, "Updated"),
    409: jsonResponse(z.any(), "The check is declared by container labels"),
  },
});

const remove = apiRoute("org:member", {
  method: "delete",
  path: "/api/v1/orgs/{org}/health-checks/{id}",
  tags: ["health"],
  summary: "Stop monitoring: delete a check and its history; its open alert resolves",
  request: { params: CheckParams },
  responses: {
    204: { description: "Deleted" },
    409: jsonResponse(z.any(), "The check is declared by container labels"),
  },
});

const ResultSchema = z.object({
  at: z.number().int(),
  ok: z.boolean(),
  response_ms: z.number().nullable(),
  status_code: z.number().int().nullable(),
  exit_code: z.number().int().nullable(),
  error: z.string().nullable(),
  output: z.string().nullable(),
  output_truncated: z.boolean().openapi({
    description: "The output was longer than 4 KB: `output` is its beginning",
  }),
}).openapi("HealthResult");

const history = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/health-checks/{id}/results",
  tags: ["health"],
  summary: "Results of a check, newest first",
  description: "A command check's results carry the command's output: only callers who may run " +
    "commands in the organization's containers read them (403 for the others).",
  request: {
    params: CheckParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_HISTORY).default(100),
      cursor: z.string().max(64).optional().openapi({
        description: "`next_cursor` of the previous page",
      }),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(ResultSchema), next_cursor: z.string().nullable() }),
      "A page of results",
    ),
  },
});

const RANGES = Object.keys(SERIES_RANGES) as [keyof typeof SERIES_RANGES];

const series = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/health-checks/{id}/response-times",
  tags: ["health"],
  summary: "Response times per bucket (1h: 1 min, 24h: 15 min, 7d: 1 h, 30d: 6 h buckets)",
  request: {
    params: CheckParams,
    query: z.object({ range: z.enum(RANGES).default("24h") }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        range: z.enum(RANGES),
        bucket_ms: z.number().int(),
        from: z.number().int(),
        to: z.number().int(),
        points: z.array(z.object({
          t: z.number().int(),
          avg_ms: z.number().nullable(),
          max_ms: z.number().nullable(),
          count: z.number().int(),
          failures: z.number().int(),
        })),
      }),
      "Series",
    ),
  },
});

/** The caller as the health service's rights see it. */
const callerOf = (c: AppContext) => ({ role: orgScopeOf(c).role });

/** Which field a refused target came in: the API takes a `url` or a `host`. */
async function urlField(c: AppContext): Promise<"http.url" | "http.host"> {
  const raw = await c.req.json().catch(() => ({})) as { http?: { url?: unknown } };
  return raw?.http?.url !== undefined ? "http.url" : "http.host";
}

/** Health check endpoints: reads for viewers, start/stop monitoring for members (as containers). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    const r = await c.var.services.health.service.list(org.id, {
      state: q.state,
      hostId: q.host,
      containerId: q.container,
      limit: q.limit,
      offset: q.offset,
    });
    return c.json(r, 200);
  });

  app.openapi(get, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(await c.var.services.health.service.get(org.id, c.req.valid("param").id), 200);
  });

  app.openapi(create, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.health.service.create(
      actionContext(c),
      org.id,
      c.req.valid("json"),
      callerOf(c),
      { urlField: await urlField(c) },
    );
    return c.json(r, 201);
  });

  app.openapi(update, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.health.service.update(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json"),
      callerOf(c),
      { urlField: await urlField(c) },
    );
    return c.json(r, 200);
  });

  app.openapi(remove, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.health.service.remove(actionContext(c), org.id, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(history, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    return c.json(
      await c.var.services.health.service.history(org.id, c.req.valid("param").id, callerOf(c), q),
      200,
    );
  });

  app.openapi(series, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(
      await c.var.services.health.service.series(
        org.id,
        c.req.valid("param").id,
        c.req.valid("query").range,
      ),
      200,
    );
  });
}
