/**
 * An app's metrics: per service the sum of its containers' CPU, memory and network over a range,
 * and per replica (slot) the sum over the containers that held it, replaced ones included
 * (lib/apps/metrics.ts). The answer has the shape of a host's metrics, so the same chart draws it.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { ServiceName } from "../../../lib/apps/spec.ts";
import {
  APP_METRIC_KEYS,
  type AppMetricKey,
  DEFAULT_APP_METRIC_KEYS,
  MAX_CONTAINERS,
  REPLICA_SERIES,
} from "../../../lib/apps/metrics.ts";
import { MAX_POINTS } from "../../../lib/metrics/query.ts";
import { appOf, AppParams } from "./apps.ts";
import { PointsResponse, window } from "./metrics.ts";
import { jsonResponse } from "./schemas.ts";

const allowed = new Set<string>(APP_METRIC_KEYS);
/** A series key, alone or as the API answers it (with a service or replica label). */
const ANSWERED_KEY = /^([a-z][a-z0-9_.]{0,63})(?:\{(?:service|replica)=[^{}=,\s"]{1,64}\})?$/;

const AppMetricsQuery = z.object({
  from: z.coerce.number().int().min(0).optional().openapi({
    description: "ms since epoch; default to − 1 h",
  }),
  to: z.coerce.number().int().min(0).optional().openapi({
    description: "ms since epoch; default now",
  }),
  metric: z.string().max(4000).optional().openapi({
    description:
      `Comma-separated container series keys, of: ${APP_METRIC_KEYS.join(", ")}; default ${
        DEFAULT_APP_METRIC_KEYS.join(",")
      }. A key as answered ` +
      "(`ctr.cpu_pct{service=web}`) stands for its series key, so a chart may ask for its lines.",
  }).transform((s, ctx) => {
    const keys = new Set<AppMetricKey>();
    for (const k of s ? s.split(",").map((k) => k.trim()).filter(Boolean) : []) {
      const m = ANSWERED_KEY.exec(k);
      if (!m || !allowed.has(m[1])) {
        ctx.addIssue({ code: "custom", message: `"${k.slice(0, 80)}" is not an app series key` });
      } else keys.add(m[1] as AppMetricKey);
    }
    return keys.size ? [...keys] : DEFAULT_APP_METRIC_KEYS;
  }),
  service: ServiceName.optional().openapi({ description: "Only this service of the app" }),
});

const AppMetricsResponse = PointsResponse.extend({
  tier: z.enum(["1m", "1h"]),
  containers: z.number().int().openapi({
    description: "Containers summed, replaced ones included",
  }),
  truncated: z.boolean().openapi({
    description:
      `More than ${MAX_CONTAINERS} containers ran in the range: the most recent were summed`,
  }),
}).openapi("AppMetrics");

const route = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/apps/{app}/metrics",
  tags: ["apps", "metrics"],
  summary:
    "An app's CPU, memory and network over [from, to): per service the sum over its containers " +
    "(`ctr.cpu_pct{service=web}`), per replica the sum over the containers that held the slot " +
    `(\`ctr.cpu_pct{replica=web.1}\`, at most ${REPLICA_SERIES} per service); minute rollups up ` +
    `to 3 days, hour rollups beyond; at most ${MAX_POINTS} points per series`,
  request: { params: AppParams, query: AppMetricsQuery },
  responses: {
    200: jsonResponse(AppMetricsResponse, "Series"),
    404: jsonResponse(z.any(), "No such app in this organization"),
  },
});

/** App metrics read API. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const q = c.req.valid("query");
    const w = window(q, c.var.services.clock.now());
    const r = await c.var.services.appMetrics.read(a, {
      ...w,
      keys: q.metric,
      service: q.service,
    });
    return c.json(r, 200);
  });
}
