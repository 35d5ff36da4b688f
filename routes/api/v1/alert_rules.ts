import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { EVENT_TYPES, QuietHoursSchema, RuleFields } from "../../../lib/alerts/schema.ts";

const RuleParams = OrgParam.merge(IdParam);

const RuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  scope: z.enum(["host", "label", "org"]),
  scope_value: z.string().nullable().openapi({
    description: "Host id (scope host), key=value (scope label), null (scope org)",
  }),
  kind: z.enum(["metric", "event"]),
  metric: z.string().nullable().openapi({
    description: "Series name; a name without {label=value} matches every label (all mounts)",
  }),
  container: z.boolean(),
  op: z.enum([">", "<"]),
  trigger: z.number().nullable(),
  clear: z.number().nullable(),
  hold_s: z.number().int(),
  mode: z.enum(["instant", "avg"]),
  window_s: z.number().int(),
  event: z.enum(EVENT_TYPES).nullable(),
  event_count: z.number().int().nullable(),
  event_window_s: z.number().int().nullable(),
  severity: z.enum(["warning", "critical"]),
  repeat_s: z.number().int(),
  quiet_hours: QuietHoursSchema.nullable(),
  channels: z.union([z.literal("all"), z.array(z.string())]),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("AlertRule");

const CreateRule = RuleFields.required({ name: true, kind: true }).openapi("AlertRuleInput");

const listRules = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/alert-rules",
  tags: ["alerts"],
  summary: "Alert rules of an organization (the defaults are created on first use)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(RuleSchema) }), "Rules") },
});

const MetricFamilySchema = z.object({
  key: z.string().openapi({ description: "Series name a rule's `metric` may use" }),
  scope: z.enum(["host", "container"]).openapi({
    description: "container: per-container series, for rules with `container: true`",
  }),
  unit: z.string(),
  label: z.string().nullable().openapi({
    description: "The label of its series: `fs.used_pct{mount=/}`; without it a rule covers all",
  }),
  values: z.array(z.string()).openapi({ description: "Label values this organization sent" }),
  seen: z.boolean().openapi({ description: "Whether a host of this organization sent it" }),
}).openapi("MetricFamily");

const listMetrics = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/metric-catalog",
  tags: ["alerts"],
  summary: "Metrics an alert rule may watch: the agents' series with units and label values seen",
  request: { params: OrgParam },
  responses: {
    200: jsonResponse(z.object({ items: z.array(MetricFamilySchema) }), "Metric families"),
  },
});

const getRule = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/alert-rules/{id}",
  tags: ["alerts"],
  summary: "One alert rule",
  request: { params: RuleParams },
  responses: { 200: jsonResponse(RuleSchema, "Rule") },
});

const createRule = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/alert-rules",
  tags: ["alerts"],
  summary: "Create an alert rule",
  description:
    "Metric rules need `metric` and `trigger`; `clear` (hysteresis) defaults to the trigger, " +
    "`hold_s` is how long the value must stay beyond the trigger (on the 1 s samples), `mode: avg` " +
    "compares the mean over `window_s`. Event rules need `event`; restart_loop takes " +
    "`event_count` in `event_window_s`, data_root_size takes `trigger` in bytes, host_offline " +
    "fires after `hold_s` without report or connection, tasks_moved (scope org) once per app and " +
    "failed node when Swarm moves the app's tasks elsewhere, secret_rotated (scope org) once per app " +
    "and rotation of a secret it uses, naming who rotated it and whether the app restarted, " +
    "certificate (scope org) while a route's " +
    "certificate expires within 14 days or failed, build (scope org) once per build from Git and " +
    "stage (build started, succeeded or failed; its deployment started, succeeded, failed or " +
    "rolled back), webhook_disabled (scope org) once each time an app's Git webhook is disabled " +
    "after bad signatures, snapshot_failed (scope org) once per failed volume snapshot or " +
    "restore, snapshot_verify_failed (scope org) once per failed verification of a storage " +
    "target. A `metric` no agent reports (see " +
    "`metric-catalog`) is refused with 400 naming the closest ones.",
  request: { params: OrgParam, ...jsonBody(CreateRule) },
  responses: { 201: jsonResponse(RuleSchema, "Created") },
});

const updateRule = apiRoute("org:admin", {
  method: "patch",
  path: "/api/v1/orgs/{org}/alert-rules/{id}",
  tags: ["alerts"],
  summary: "Change an alert rule (any fields; the result is checked as a whole)",
  request: { params: RuleParams, ...jsonBody(RuleFields) },
  responses: { 200: jsonResponse(RuleSchema, "Updated") },
});

const deleteRule = apiRoute("org:admin", {
  method: "delete",
  path: "/api/v1/orgs/{org}/alert-rules/{id}",
  tags: ["alerts"],
  summary: "Delete an alert rule; its open alerts end without a notification",
  request: { params: RuleParams },
  responses: { 204: { description: "Deleted" } },
});

/** Alert rule endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listRules, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json({ items: await c.var.services.alerts.rules.list(org.id) }, 200);
  });

  app.openapi(listMetrics, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json({ items: await c.var.services.alerts.metricCatalog(org.id) }, 200);
  });

  app.openapi(getRule, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(await c.var.services.alerts.rules.get(org.id, c.req.valid("param").id), 200);
  });

  app.openapi(createRule, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.rules.create(
      actionContext(c),
      org.id,
      c.req.valid("json"),
    );
    return c.json(r, 201);
  });

  app.openapi(updateRule, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.rules.update(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(r, 200);
  });

  app.openapi(deleteRule, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.alerts.rules.remove(actionContext(c), org.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
