/**
 * The API's old paths outside `/api/v1/orgs/{org}/…`, kept for one release as documented aliases
 * (`deprecated: true` in the OpenAPI document, naming the path that replaces each). Each keeps the
 * policy it always had and runs the same body as its new path; the route walk covers them like any
 * other route. Delete this file, and its line in mod.ts, in the release after.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { hostForCaller } from "../../../lib/http/host_access.ts";
import { hostContainerUsage } from "../../../lib/metrics/use_cases.ts";
import { jsonResponse } from "./schemas.ts";
import { AuditQuery } from "../../_schemas/audit.ts";
import { AuditPage, auditPage } from "./audit.ts";
import {
  ContainerParams,
  ContainersUsageResponse,
  HostParam,
  KeysResponse,
  points,
  PointsResponse,
  RangeQuery,
  stats,
  StatsQuery,
  StatsResponse,
} from "./metrics.ts";

/** Old path → the path that replaces it (OpenAPI style). */
export const REPLACED_BY = {
  "/api/v1/hosts/{hostId}/metrics": "/api/v1/orgs/{org}/hosts/{hostId}/metrics",
  "/api/v1/hosts/{hostId}/stats": "/api/v1/orgs/{org}/hosts/{hostId}/stats",
  "/api/v1/hosts/{hostId}/metrics/series": "/api/v1/orgs/{org}/hosts/{hostId}/metrics/series",
  "/api/v1/hosts/{hostId}/containers/latest":
    "/api/v1/orgs/{org}/hosts/{hostId}/metrics/containers",
  "/api/v1/containers/{hostId}/{containerId}/metrics":
    "/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}/metrics",
  "/api/v1/containers/{hostId}/{containerId}/stats":
    "/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}/stats",
  "/api/v1/audit": "/api/v1/orgs/{org}/audit",
} as const;

type OldPath = keyof typeof REPLACED_BY;

/** What an alias's OpenAPI entry says besides its own summary. */
function alias<P extends OldPath>(path: P, summary: string) {
  return {
    method: "get" as const,
    path,
    deprecated: true,
    summary: `${summary} (deprecated)`,
    description: `Deprecated alias of \`GET ${
      REPLACED_BY[path]
    }\`, kept for one release: use that path.`,
  };
}

const routes = {
  hostMetrics: apiRoute("user", {
    ...alias("/api/v1/hosts/{hostId}/metrics", "A host's series over [from, to)"),
    tags: ["metrics"],
    request: { params: HostParam, query: RangeQuery },
    responses: { 200: jsonResponse(PointsResponse, "Series") },
  }),
  hostStats: apiRoute("user", {
    ...alias("/api/v1/hosts/{hostId}/stats", "A host's statistics per series"),
    tags: ["metrics"],
    request: { params: HostParam, query: StatsQuery },
    responses: { 200: jsonResponse(StatsResponse, "Statistics") },
  }),
  hostKeys: apiRoute("user", {
    ...alias("/api/v1/hosts/{hostId}/metrics/series", "Series keys a host reports"),
    tags: ["metrics"],
    request: { params: HostParam },
    responses: { 200: jsonResponse(KeysResponse, "Keys") },
  }),
  hostContainers: apiRoute("user", {
    ...alias("/api/v1/hosts/{hostId}/containers/latest", "A host's containers' newest figures"),
    tags: ["metrics"],
    request: { params: HostParam },
    responses: { 200: jsonResponse(ContainersUsageResponse, "Containers") },
  }),
  containerMetrics: apiRoute("user", {
    ...alias("/api/v1/containers/{hostId}/{containerId}/metrics", "A container's series"),
    tags: ["metrics"],
    request: { params: ContainerParams, query: RangeQuery },
    responses: { 200: jsonResponse(PointsResponse, "Series") },
  }),
  containerStats: apiRoute("user", {
    ...alias("/api/v1/containers/{hostId}/{containerId}/stats", "A container's statistics"),
    tags: ["metrics"],
    request: { params: ContainerParams, query: StatsQuery },
    responses: { 200: jsonResponse(StatsResponse, "Statistics") },
  }),
  audit: apiRoute("org:admin", {
    ...alias("/api/v1/audit", "Audit log of an organization (?org=<slug>)"),
    tags: ["audit"],
    request: { query: AuditQuery },
    responses: {
      200: jsonResponse(AuditPage, "Entries; pass next_before as before for the next page"),
    },
  }),
};

/** The deprecated aliases; a host addressed by id alone is 404 unless the caller may read it. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(routes.hostMetrics, async (c) => {
    const { hostId } = c.req.valid("param");
    await hostForCaller(c, hostId);
    return c.json(await points(c.var.services, hostId, "", c.req.valid("query")), 200);
  });
  app.openapi(routes.hostStats, async (c) => {
    const { hostId } = c.req.valid("param");
    await hostForCaller(c, hostId);
    return c.json(await stats(c.var.services, hostId, "", c.req.valid("query")), 200);
  });
  app.openapi(routes.hostKeys, async (c) => {
    const { hostId } = c.req.valid("param");
    await hostForCaller(c, hostId);
    return c.json({ keys: await c.var.services.metrics.query.keys(hostId) }, 200);
  });
  app.openapi(routes.hostContainers, async (c) => {
    const host = await hostForCaller(c, c.req.valid("param").hostId);
    return c.json(await hostContainerUsage(c.var.services, host.org_id, host.id), 200);
  });
  app.openapi(routes.containerMetrics, async (c) => {
    const { hostId, containerId } = c.req.valid("param");
    await hostForCaller(c, hostId);
    return c.json(await points(c.var.services, hostId, containerId, c.req.valid("query")), 200);
  });
  app.openapi(routes.containerStats, async (c) => {
    const { hostId, containerId } = c.req.valid("param");
    await hostForCaller(c, hostId);
    return c.json(await stats(c.var.services, hostId, containerId, c.req.valid("query")), 200);
  });
  app.openapi(routes.audit, async (c) => c.json(await auditPage(c, c.req.valid("query")), 200));
}
