import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv } from "../../../lib/http/context.ts";
import {
  emailSchema,
  jsonBody,
  jsonResponse,
  nameSchema,
  passwordSchema,
  UserSchema,
  userView,
} from "./schemas.ts";

const listUsers = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/users",
  tags: ["users"],
  summary: "All user accounts (platform admins)",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(UserSchema) }), "Users") },
});

const createUser = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/users",
  tags: ["users"],
  summary: "Create a user account (platform admins)",
  request: jsonBody(
    z.object({
      email: emailSchema,
      name: nameSchema,
      password: passwordSchema,
      is_admin: z.boolean().default(false),
    }),
  ),
  responses: {
    201: jsonResponse(UserSchema, "Created"),
    409: jsonResponse(z.any(), "Email in use"),
  },
});

/** User account endpoints for platform admins. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listUsers, async (c) => {
    const q = c.req.valid("query");
    const items = await c.var.services.users.list(q.limit, q.offset);
    return c.json({ items: items.map(userView) }, 200);
  });

  app.openapi(createUser, async (c) => {
    const b = c.req.valid("json");
    const u = await c.var.services.accounts.createUser(actionContext(c), {
      ...b,
      isAdmin: b.is_admin,
    });
    return c.json(userView(u), 201);
  });
}
