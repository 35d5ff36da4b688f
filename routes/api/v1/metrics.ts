/**
 * The metrics read API, under the organization: a host's series, statistics and keys, its
 * containers' newest figures, a container's series and statistics, and the organization's metric
 * storage. The bodies are exported for the deprecated host-addressed aliases (deprecated.ts).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { MAX_POINTS, STATS_RANGES, type StatsRange } from "../../../lib/metrics/query.ts";
import { RELATIVE_ACCURACY } from "../../../lib/metrics/histogram.ts";
import { SERIES_KEY } from "../../../lib/protocol/metrics.ts";
import { hostContainerUsage, metricStorage } from "../../../lib/metrics/use_cases.ts";
import type { Services } from "../../../services.ts";
import { jsonResponse, OrgParam } from "./schemas.ts";

const HOUR = 3_600_000;
/** A host addressed by id alone (the deprecated aliases). */
export const HostParam = z.object({
  hostId: z.string().regex(/^[0-9a-f-]{36}$/, "must be a host id").openapi({
    param: { name: "hostId", in: "path" },
  }),
});
const FULL_ID = /^[a-f0-9]{64}$/;
/** A container addressed by host and id alone (the deprecated aliases). */
export const ContainerParams = HostParam.extend({
  containerId: z.string().regex(FULL_ID, "must be a full 64-hex container id").openapi({
    param: { name: "containerId", in: "path" },
  }),
});
/** A host of the organization. */
const OrgHostParams = OrgParam.merge(HostParam);
/** A container on a host of the organization, by its full id. */
const OrgContainerParams = OrgHostParams.extend({
  id: z.string().regex(FULL_ID, "must be a full 64-hex container id").openapi({
    param: { name: "id", in: "path" },
  }),
});
const metricList = z.string().max(4000).optional().openapi({
  description: "Comma-separated series keys, e.g. cpu.total_pct,mem.used_pct",
})
  .transform((s, ctx) => {
    const keys = s ? s.split(",").map((k) => k.trim()).filter(Boolean) : [];
    if (keys.length > 50) ctx.addIssue({ code: "custom", message: "at most 50 series" });
    for (const k of keys) {
      if (!SERIES_KEY.test(k)) {
        ctx.addIssue({ code: "custom", message: `"${k.slice(0, 80)}" is not a series key` });
      }
    }
    return keys;
  });
export const RangeQuery = z.object({
  from: z.coerce.number().int().min(0).optional().openapi({
    description: "ms since epoch; default to − 1 h",
  }),
  to: z.coerce.number().int().min(0).optional().openapi({
    description: "ms since epoch; default now",
  }),
  metric: metricList,
});
export const StatsQuery = z.object({
  range: z.enum(Object.keys(STATS_RANGES) as [keyof typeof STATS_RANGES]).default("24h"),
  metric: metricList,
});

export const PointsResponse = z.object({
  tier: z.enum(["raw", "1m", "1h"]),
  from: z.number(),
  to: z.number(),
  series: z.array(
    z.object({
      key: z.string(),
      points: z.array(z.tuple([z.number(), z.number(), z.number(), z.number()])).openapi({
        description: "[t, avg, min, max]",
      }),
    }),
  ),
}).openapi("MetricPoints");
export const StatsResponse = z.object({
  range: z.string(),
  relative_error: z.number().openapi({ description: "Bound on the relative error of p50/p95/p99" }),
  series: z.array(
    z.object({
      key: z.string(),
      min: z.number(),
      max: z.number(),
      avg: z.number(),
      p50: z.number(),
      p95: z.number(),
      p99: z.number(),
      count: z.number(),
      percentiles_of: z.enum(["samples", "1m_averages", "1h_averages"]).openapi({
        description:
          "What p50/p95/p99 are read from: the samples (within relative_error), or for throughput series (`_bps`) exactly from the one-minute (ranges up to 24 h) or one-hour averages",
      }),
    }),
  ),
}).openapi("MetricStats");

const nullableNumber = z.number().nullable();
export const ContainerUsageSchema = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  state: z.string(),
  status: z.string(),
  t: nullableNumber.openapi({
    description: "Time of the newest figure, ms; null: none in the last minute",
  }),
  cpu_pct: nullableNumber.openapi({ description: "CPU, % of the whole host" }),
  cpu_limit_pct: nullableNumber.openapi({ description: "CPU, % of the container's limit" }),
  mem_used_bytes: nullableNumber,
  mem_limit_bytes: nullableNumber,
  mem_pct: nullableNumber,
  net_rx_bps: nullableNumber,
  net_tx_bps: nullableNumber,
}).openapi("ContainerUsage");
/** The series keys of a host. */
export const KeysResponse = z.object({ keys: z.array(z.string()) });
/** A host's containers with their newest figures. */
export const ContainersUsageResponse = z.object({
  items: z.array(ContainerUsageSchema),
  total: z.number(),
});

const StorageCounts = z.object({
  series: z.number(),
  raw_rows: z.number(),
  minute_rows: z.number(),
  hour_rows: z.number(),
  estimated_bytes: z.number(),
});
const StorageResponse = z.object({
  dialect: z.enum(["sqlite", "postgres"]),
  row_bytes: z.object({ raw: z.number(), rollup: z.number() }).openapi({
    description:
      "Approximate bytes per raw sample (stored compressed) and per rollup row (plus its histogram text)",
  }),
  conversion: z.object({
    started_at: z.number(),
    total_rows: z.number(),
    converted_rows: z.number(),
    finished_at: z.number().nullable(),
  }).nullable().optional().openapi({
    description: "How far the conversion of raw rows stored before compressed chunks is",
  }),
  retention: z.object({ raw_hours: z.number(), minute_days: z.number(), hour_days: z.number() }),
  hosts: z.array(
    StorageCounts.extend({ host_id: z.string(), name: z.string(), removed: z.boolean() }),
  ),
  total: StorageCounts,
}).openapi("MetricStorage");

/** The [from, to) a query names (default: the last hour), or 400 naming `from`. */
export function window(q: { from?: number; to?: number }, now: number) {
  const to = q.to ?? now;
  const from = q.from ?? to - HOUR;
  if (from >= to) {
    throw new HttpError(400, "validation", "from must be before to", { from: "must be before to" });
  }
  if (to - from > 400 * 24 * HOUR) {
    throw new HttpError(400, "validation", "range is longer than 400 days", {
      from: "range is too long",
    });
  }
  return { from, to };
}

/** The series of a host (container "") or a container over [from, to); default keys when none. */
export async function points(
  s: Services,
  hostId: string,
  containerId: string,
  q: { from?: number; to?: number; metric: string[] },
) {
  const w = window(q, s.clock.now());
  const keys = q.metric.length ? q.metric : await defaultKeys(s, hostId, containerId);
  const r = await s.metrics.query.points(hostId, containerId, keys, w.from, w.to);
  return { ...r, ...w };
}

/** min/max/avg/percentiles of a host's (container "") or a container's series over a range. */
export async function stats(
  s: Services,
  hostId: string,
  containerId: string,
  q: { range: StatsRange; metric: string[] },
) {
  const series = await s.metrics.query.stats(
    hostId,
    containerId,
    q.range,
    q.metric.length ? q.metric : undefined,
  );
  return { range: q.range, relative_error: RELATIVE_ACCURACY, series };
}

async function defaultKeys(s: Services, hostId: string, container: string) {
  return (await s.metrics.query.keys(hostId, container)).slice(0, 50);
}

/** The organization's host a path names: 404 for anyone else's, like every org-scoped route. */
async function orgHost(c: AppContext, hostId: string) {
  return await c.var.services.hosts.get(orgScopeOf(c).org.id, hostId);
}

const base = "/api/v1/orgs/{org}/hosts/{hostId}";

const routes = {
  hostMetrics: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/metrics`,
    tags: ["metrics"],
    summary:
      `A host's series over [from, to): raw up to 3 h, minute rollups up to 3 days, hour rollups beyond; at most ${MAX_POINTS} points per series`,
    request: { params: OrgHostParams, query: RangeQuery },
    responses: { 200: jsonResponse(PointsResponse, "Series") },
  }),
  hostStats: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/stats`,
    tags: ["metrics"],
    summary:
      "min/max/avg/p50/p95/p99 per series over the range, from rollups and the samples not yet rolled up",
    request: { params: OrgHostParams, query: StatsQuery },
    responses: { 200: jsonResponse(StatsResponse, "Statistics") },
  }),
  hostKeys: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/metrics/series`,
    tags: ["metrics"],
    summary: "Series keys a host reports",
    request: { params: OrgHostParams },
    responses: { 200: jsonResponse(KeysResponse, "Keys") },
  }),
  hostContainers: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/metrics/containers`,
    tags: ["metrics"],
    summary:
      "A host's containers (running first, at most 200) with their newest CPU, memory and network figures",
    request: { params: OrgHostParams },
    responses: { 200: jsonResponse(ContainersUsageResponse, "Containers") },
  }),
  containerMetrics: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/containers/{id}/metrics`,
    tags: ["metrics"],
    summary: "A container's series (ctr.cpu_pct, ctr.mem_used_bytes, …) over [from, to)",
    request: { params: OrgContainerParams, query: RangeQuery },
    responses: { 200: jsonResponse(PointsResponse, "Series") },
  }),
  containerStats: apiRoute("org:viewer", {
    method: "get",
    path: `${base}/containers/{id}/stats`,
    tags: ["metrics"],
    summary: "A container's min/max/avg/p95 per series over the range",
    request: { params: OrgContainerParams, query: StatsQuery },
    responses: { 200: jsonResponse(StatsResponse, "Statistics") },
  }),
  orgStorage: apiRoute("org:admin", {
    method: "get",
    path: "/api/v1/orgs/{org}/metrics/storage",
    tags: ["metrics"],
    summary: "Metric rows per host and tier, with an estimate of the bytes they take",
    request: { params: OrgParam },
    responses: { 200: jsonResponse(StorageResponse, "Storage") },
  }),
};

/** Metrics read API. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(routes.hostContainers, async (c) => {
    const host = await orgHost(c, c.req.valid("param").hostId);
    return c.json(await hostContainerUsage(c.var.services, host.org_id, host.id), 200);
  });
  app.openapi(routes.orgStorage, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await metricStorage(c.var.services, org.id);
    const keep = c.var.services.config.metricsRetention;
    return c.json({
      ...r,
      retention: {
        raw_hours: keep.rawHours,
        minute_days: keep.minuteDays,
        hour_days: keep.hourDays,
      },
    }, 200);
  });
  app.openapi(routes.hostMetrics, async (c) => {
    const { hostId } = c.req.valid("param");
    await orgHost(c, hostId);
    return c.json(await points(c.var.services, hostId, "", c.req.valid("query")), 200);
  });
  app.openapi(routes.hostStats, async (c) => {
    const { hostId } = c.req.valid("param");
    await orgHost(c, hostId);
    return c.json(await stats(c.var.services, hostId, "", c.req.valid("query")), 200);
  });
  app.openapi(routes.hostKeys, async (c) => {
    const { hostId } = c.req.valid("param");
    await orgHost(c, hostId);
    return c.json({ keys: await c.var.services.metrics.query.keys(hostId) }, 200);
  });
  app.openapi(routes.containerMetrics, async (c) => {
    const { hostId, id } = c.req.valid("param");
    await orgHost(c, hostId);
    return c.json(await points(c.var.services, hostId, id, c.req.valid("query")), 200);
  });
  app.openapi(routes.containerStats, async (c) => {
    const { hostId, id } = c.req.valid("param");
    await orgHost(c, hostId);
    return c.json(await stats(c.var.services, hostId, id, c.req.valid("query")), 200);
  });
}
