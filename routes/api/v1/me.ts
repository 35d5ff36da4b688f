import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, principalOf } from "../../../lib/http/context.ts";
import {
  jsonBody,
  jsonResponse,
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
