import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { EXEC_ROLES, setExecRole } from "../../../lib/hosts/exec_policy.ts";
import { containerExecRole } from "../../../lib/hosts/container_use_cases.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const Settings = z.object({
  exec_role: z.enum(EXEC_ROLES).openapi({
    description: "The lowest role that may run commands in the organization's containers: " +
      "create or change command health checks and read their results (default admin)",
  }),
}).openapi("ContainerSettings");

const get = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/settings/containers",
  tags: ["containers"],
  summary: "The organization's container settings",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(Settings, "Settings") },
});

const patch = apiRoute("org:admin", {
  method: "patch",
  path: "/api/v1/orgs/{org}/settings/containers",
  tags: ["containers"],
  summary: "Change the organization's container settings (audited)",
  request: { params: OrgParam, ...jsonBody(Settings.partial()) },
  responses: { 200: jsonResponse(Settings, "Settings") },
});

/** Container settings of an organization: read by viewers, changed by admins. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(get, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json({ exec_role: await containerExecRole(c.var.services, org.id) }, 200);
  });

  app.openapi(patch, async (c) => {
    const { org } = orgScopeOf(c);
    const body = c.req.valid("json");
    if (body.exec_role !== undefined) {
      await setExecRole(c.var.services, actionContext(c), org.id, body.exec_role);
    }
    return c.json({ exec_role: await containerExecRole(c.var.services, org.id) }, 200);
  });
}
