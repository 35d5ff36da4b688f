import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import {
  emailSchema,
  InvitationSchema,
  invitationView,
  jsonBody,
  jsonResponse,
  MemberSchema,
  OrgParam,
  orgRoleSchema,
} from "./schemas.ts";
import { assertMayAssign } from "../../../lib/orgs/use_cases.ts";

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
  summary:
    "Invite someone by email; they become a member when they accept it after signing in. The answer is the same whether or not an account with that email exists",
  request: { params: OrgParam, ...jsonBody(z.object({ email: emailSchema, role: orgRoleSchema })) },
  responses: {
    202: jsonResponse(InvitationSchema, "Invited (renewed if already invited)"),
    409: jsonResponse(z.any(), "Already a member"),
  },
});

const listInvitations = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/orgs/{org}/invitations",
  tags: ["members"],
  summary: "Pending invitations of an organization",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(InvitationSchema) }), "Invitations") },
});

const cancelInvitation = apiRoute("org:admin", {
  method: "delete",
  path: "/api/v1/orgs/{org}/invitations/{email}",
  tags: ["members"],
  summary: "Withdraw a pending invitation",
  request: {
    params: OrgParam.extend({
      email: emailSchema.openapi({ param: { name: "email", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Withdrawn" } },
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
    const inv = await c.var.services.invitations.invite(actionContext(c), org, body);
    return c.json(invitationView(inv), 202);
  });

  app.openapi(listInvitations, async (c) => {
    const { org } = orgScopeOf(c);
    const items = await c.var.services.invitations.listForOrg(org.id);
    return c.json({ items: items.map(invitationView) }, 200);
  });

  app.openapi(cancelInvitation, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.invitations.cancel(actionContext(c), org, c.req.valid("param").email);
    return c.body(null, 204);
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
