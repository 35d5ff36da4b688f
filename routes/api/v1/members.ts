import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import {
  emailSchema,
  jsonBody,
  jsonResponse,
  MemberSchema,
  OrgParam,
  orgRoleSchema,
} from "./schemas.ts";
import { forbidden } from "../../../lib/http/errors.ts";
import type { OrgRole } from "../../../lib/db/schema.ts";

const MemberParams = OrgParam.extend({
  userId: z.string().min(1).max(64).openapi({ param: { name: "userId", in: "path" } }),
});

const listMembers = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/members",
  tags: ["members"],
  summary: "Members of an organization",
  request: {
    params: OrgParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(MemberSchema) }), "Members") },
});

const addMember = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/members",
  tags: ["members"],
  summary: "Add an existing user to the organization",
  request: { params: OrgParam, ...jsonBody(z.object({ email: emailSchema, role: orgRoleSchema })) },
  responses: {
    201: jsonResponse(MemberSchema, "Added"),
    409: jsonResponse(z.any(), "Already a member"),
  },
});

const changeRole = apiRoute("org:admin", {
  method: "patch",
  path: "/api/v1/orgs/{org}/members/{userId}",
  tags: ["members"],
  summary: "Change a member's role",
  request: { params: MemberParams, ...jsonBody(z.object({ role: orgRoleSchema })) },
  responses: {
    200: jsonResponse(MemberSchema, "Changed"),
    409: jsonResponse(z.any(), "Would leave no owner"),
  },
});

const removeMember = apiRoute("org:admin", {
  method: "delete",
  path: "/api/v1/orgs/{org}/members/{userId}",
  tags: ["members"],
  summary: "Remove a member (their tokens for this organization are revoked)",
  request: { params: MemberParams },
  responses: {
    204: { description: "Removed" },
    409: jsonResponse(z.any(), "Would leave no owner"),
  },
});

/** Only owners may grant or take away ownership. */
export function assertMayAssign(actorRole: OrgRole, role: OrgRole, currentRole?: OrgRole) {
  if ((role === "owner" || currentRole === "owner") && actorRole !== "owner") {
    throw forbidden("Only owners may grant or remove the owner role");
  }
}

/** Membership endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listMembers, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    return c.json({ items: await c.var.services.orgs.members(org.id, q.limit, q.offset) }, 200);
  });

  app.openapi(addMember, async (c) => {
    const { org, role } = orgScopeOf(c);
    const body = c.req.valid("json");
    assertMayAssign(role, body.role);
    return c.json(await c.var.services.orgs.addMember(actionContext(c), org, body), 201);
  });

  app.openapi(changeRole, async (c) => {
    const { org, role } = orgScopeOf(c);
    const { userId } = c.req.valid("param");
    const body = c.req.valid("json");
    assertMayAssign(role, body.role, await c.var.services.orgs.roleOf(org.id, userId));
    return c.json(
      await c.var.services.orgs.changeRole(actionContext(c), org, userId, body.role),
      200,
    );
  });

  app.openapi(removeMember, async (c) => {
    const { org, role } = orgScopeOf(c);
    const { userId } = c.req.valid("param");
    const current = await c.var.services.orgs.roleOf(org.id, userId);
    if (current) assertMayAssign(role, current, current);
    await c.var.services.orgs.removeMember(actionContext(c), org, userId);
    return c.body(null, 204);
  });
}
