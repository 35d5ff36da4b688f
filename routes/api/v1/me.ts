import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, principalOf } from "../../../lib/http/context.ts";
import { answerInvitation } from "../../../lib/orgs/use_cases.ts";
import {
  InvitationSchema,
  invitationView,
  jsonBody,
  jsonResponse,
  MemberSchema,
  OrgParam,
  OrgSchema,
  passwordSchema,
  UserSchema,
  userView,
} from "./schemas.ts";
import { forbidden } from "../../../lib/http/errors.ts";

const getMe = apiRoute("user", {
  method: "get",
  path: "/api/v1/me",
  tags: ["account"],
  summary: "The calling user and their organizations",
  responses: {
    200: jsonResponse(
      z.object({ user: UserSchema, orgs: z.array(OrgSchema), via: z.enum(["session", "token"]) }),
      "The caller",
    ),
  },
});

const changePassword = apiRoute("user", {
  method: "post",
  path: "/api/v1/me/password",
  tags: ["account"],
  summary: "Change your password; ends your other sessions",
  request: jsonBody(z.object({ current: z.string().min(1).max(256), next: passwordSchema })),
  responses: {
    200: jsonResponse(z.object({ ended_sessions: z.number().int() }), "Password changed"),
  },
});

const IncomingInvitationSchema = InvitationSchema.extend({
  org_slug: z.string(),
  org_name: z.string(),
}).openapi("IncomingInvitation");

const listMyInvitations = apiRoute("user", {
  method: "get",
  path: "/api/v1/me/invitations",
  tags: ["account"],
  summary: "Invitations to organizations addressed to your email",
  responses: {
    200: jsonResponse(z.object({ items: z.array(IncomingInvitationSchema) }), "Invitations"),
  },
});

const acceptInvitation = apiRoute("user", {
  method: "post",
  path: "/api/v1/me/invitations/{org}/accept",
  tags: ["account"],
  summary: "Join the organization that invited you (signed-in sessions only)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(MemberSchema, "Joined") },
});

const declineInvitation = apiRoute("user", {
  method: "post",
  path: "/api/v1/me/invitations/{org}/decline",
  tags: ["account"],
  summary: "Turn an invitation down (signed-in sessions only)",
  request: { params: OrgParam },
  responses: { 204: { description: "Declined" } },
});

/** Account endpoints of the caller. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(getMe, async (c) => {
    const p = principalOf(c);
    const { users, orgs } = c.var.services;
    const user = (await users.byId(p.userId))!;
    let list = await orgs.listForUser(p.userId, p.isAdmin);
    if (p.tokenOrgId) list = list.filter((o) => o.id === p.tokenOrgId);
    return c.json(
      { user: { ...userView(user), is_admin: p.isAdmin }, orgs: list, via: p.kind },
      200,
    );
  });

  app.openapi(listMyInvitations, async (c) => {
    const items = await c.var.services.invitations.listForEmail(principalOf(c).email);
    return c.json({
      items: items.map((i) => ({
        ...invitationView(i),
        org_slug: i.org_slug,
        org_name: i.org_name,
      })),
    }, 200);
  });

  app.openapi(acceptInvitation, async (c) => {
    const { org } = c.req.valid("param");
    const member = await answerInvitation(
      c.var.services,
      principalOf(c),
      actionContext(c),
      org,
      "accept",
    );
    return c.json(member!, 200);
  });

  app.openapi(declineInvitation, async (c) => {
    const { org } = c.req.valid("param");
    await answerInvitation(c.var.services, principalOf(c), actionContext(c), org, "decline");
    return c.body(null, 204);
  });

  app.openapi(changePassword, async (c) => {
    const p = principalOf(c);
    if (p.kind !== "session") {
      throw forbidden("Passwords can only be changed from a signed-in session");
    }
    const body = c.req.valid("json");
    const r = await c.var.services.accounts.changePassword(
      actionContext(c),
      p.userId,
      body,
      p.credentialId,
    );
    return c.json({ ended_sessions: r.endedSessions }, 200);
  });
}
