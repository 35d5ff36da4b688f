import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf, principalOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { AlertQuery } from "../../_schemas/alerts.ts";
import type { AlertRow } from "../../../lib/alerts/history.ts";

const AlertParams = OrgParam.merge(IdParam);

const AlertSchema = z.object({
  id: z.string(),
  rule_id: z.string().nullable(),
  rule_name: z.string(),
  state: z.enum(["firing", "resolved"]),
  severity: z.enum(["warning", "critical"]),
  title: z.string(),
  value: z.number().nullable(),
  host_id: z.string().nullable(),
  host_name: z.string().nullable(),
  container_id: z.string().nullable(),
  container_name: z.string().nullable(),
  started_at: z.number().int(),
  ended_at: z.number().int().nullable(),
  acknowledged_by: z.string().nullable(),
  acknowledged_at: z.number().int().nullable(),
  silenced_until: z.number().int().nullable(),
  muted: z.boolean().openapi({
    description: "Notifications withheld: the container's host was offline",
  }),
}).openapi("Alert");

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** An alert row as the API shows it. */
export function alertView(a: AlertRow): z.infer<typeof AlertSchema> {
  return {
    id: a.id,
    rule_id: a.rule_id,
    rule_name: a.rule_name,
    state: a.state,
    severity: a.severity,
    title: a.title,
    value: num(a.value),
    host_id: a.host_id,
    host_name: a.host_name,
    container_id: a.container_id,
    container_name: a.container_name,
    started_at: Number(a.started_at),
    ended_at: num(a.ended_at),
    acknowledged_by: a.acknowledged_by,
    acknowledged_at: num(a.acknowledged_at),
    silenced_until: num(a.silenced_until),
    muted: a.muted === 1,
  };
}

const listAlerts = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/alerts",
  tags: ["alerts"],
  summary: "Alerts, firing and past, newest first, paginated by cursor",
  request: { params: OrgParam, query: AlertQuery },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(AlertSchema), next_before: z.string().nullable() }),
      "Alerts; pass next_before as before for the next page",
    ),
  },
});

const getAlert = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/alerts/{id}",
  tags: ["alerts"],
  summary: "One alert",
  request: { params: AlertParams },
  responses: { 200: jsonResponse(AlertSchema, "Alert") },
});

const acknowledge = apiRoute("org:member", {
  method: "post",
  path: "/api/v1/orgs/{org}/alerts/{id}/acknowledge",
  tags: ["alerts"],
  summary: "Acknowledge an alert: no more reminders for it",
  request: { params: AlertParams },
  responses: { 200: jsonResponse(AlertSchema, "Acknowledged") },
});

const silence = apiRoute("org:member", {
  method: "post",
  path: "/api/v1/orgs/{org}/alerts/{id}/silence",
  tags: ["alerts"],
  summary: "Withhold notifications of an alert (and of its subject re-firing) for some minutes",
  request: {
    params: AlertParams,
    ...jsonBody(z.object({ minutes: z.number().int().min(1).max(10_080) })),
  },
  responses: { 200: jsonResponse(AlertSchema, "Silenced") },
});

const unread = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/notifications/unread-count",
  tags: ["alerts"],
  summary: "How many alerts started since the caller last read the notifications",
  request: { params: OrgParam },
  responses: {
    200: jsonResponse(
      z.object({ count: z.number().int(), last_read_at: z.number().int().nullable() }),
      "Unread count",
    ),
  },
});

const openCount = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/notifications/open-count",
  tags: ["alerts"],
  summary: "How many alerts are firing with nobody having acknowledged them (the bell's count)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ count: z.number().int() }), "Open count") },
});

const markRead = apiRoute("org:viewer", {
  method: "post",
  path: "/api/v1/orgs/{org}/notifications/read",
  tags: ["alerts"],
  summary: "Mark every notification read for the caller",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ last_read_at: z.number().int() }), "Marked") },
});

/** Alert history, acknowledge/silence, the bell's open count and the per-user unread count. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAlerts, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    const { rows, nextBefore } = await c.var.services.alerts.history.list({
      orgId: org.id,
      state: q.state,
      severity: q.severity,
      hostId: q.host,
      from: q.from,
      to: q.to,
      before: q.before,
      limit: q.limit,
    });
    return c.json({ items: rows.map(alertView), next_before: nextBefore }, 200);
  });

  app.openapi(getAlert, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(
      alertView(await c.var.services.alerts.history.get(org.id, c.req.valid("param").id)),
      200,
    );
  });

  app.openapi(acknowledge, async (c) => {
    const { org } = orgScopeOf(c);
    const a = await c.var.services.alerts.history.acknowledge(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
    );
    return c.json(alertView(a), 200);
  });

  app.openapi(silence, async (c) => {
    const { org } = orgScopeOf(c);
    const a = await c.var.services.alerts.history.silence(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json").minutes,
    );
    return c.json(alertView(a), 200);
  });

  app.openapi(unread, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.history.unreadCount(principalOf(c).userId, org.id);
    c.header("Cache-Control", "no-store");
    return c.json(r, 200);
  });

  app.openapi(openCount, async (c) => {
    const { org } = orgScopeOf(c);
    c.header("Cache-Control", "no-store");
    return c.json({ count: await c.var.services.alerts.history.openCount(org.id) }, 200);
  });

  app.openapi(markRead, async (c) => {
    const { org } = orgScopeOf(c);
    const at = await c.var.services.alerts.history.markRead(principalOf(c).userId, org.id);
    return c.json({ last_read_at: at }, 200);
  });
}
