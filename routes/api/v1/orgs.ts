import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf, principalOf } from "../../../lib/http/context.ts";
import { jsonBody, jsonResponse, nameSchema, OrgParam, OrgSchema, slugSchema } from "./schemas.ts";

const listOrgs = apiRoute("user", {
  method: "get",
  path: "/api/v1/orgs",
  tags: ["organizations"],
  summary: "Organizations you belong to (all of them for platform admins)",
  responses: { 200: jsonResponse(z.object({ items: z.array(OrgSchema) }), "Organizations") },
});

const createOrg = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/orgs",
  tags: ["organizations"],
  summary: "Create an organization (platform admins); you become its owner",
  request: jsonBody(z.object({ slug: slugSchema, name: nameSchema })),
  responses: { 201: jsonResponse(OrgSchema, "Created"), 409: jsonResponse(z.any(), "Slug in use") },
});

const getOrg = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}",
  tags: ["organizations"],
  summary: "One organization and your role in it",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(OrgSchema, "The organization") },
});

/** Organization endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listOrgs, async (c) => {
    const p = principalOf(c);
    let items = await c.var.services.orgs.listForUser(p.userId, p.isAdmin);
    if (p.tokenOrgId) items = items.filter((o) => o.id === p.tokenOrgId);
    return c.json({ items }, 200);
  });

  app.openapi(createOrg, async (c) => {
    const p = principalOf(c);
    const body = c.req.valid("json");
    const org = await c.var.services.orgs.create(actionContext(c), { ...body, ownerId: p.userId });
    return c.json({ ...org, role: "owner" as const }, 201);
  });

  app.openapi(getOrg, (c) => {
    const { org, role } = orgScopeOf(c);
    return c.json({ ...org, role }, 200);
  });
}
