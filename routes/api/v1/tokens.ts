import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, principalOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, nameSchema, slugSchema, TokenSchema } from "./schemas.ts";
import { notFound } from "../../../lib/http/errors.ts";
import type { Services } from "../../../lib/services.ts";
import type { Principal } from "../../../lib/auth/principal.ts";

const DAY = 24 * 3600 * 1000;

/** Input of token creation, shared by the API and the tokens page. */
export const CreateTokenInput = z.object({
  name: nameSchema,
  org: slugSchema,
  scope: z.enum(["read", "write"]),
  expires_days: z.coerce.number().int().min(1).max(3650).nullable().optional().openapi({
    description: "Days until the token expires; omit or null for no expiry",
  }),
});

/** Creates a token for the caller in an organization they belong to (404 otherwise). */
export async function createTokenFor(
  services: Services,
  p: Principal,
  ctx: ReturnType<typeof actionContext>,
  input: z.infer<typeof CreateTokenInput>,
) {
  const org = await services.orgs.bySlug(input.org);
  const member = org && (p.isAdmin || await services.orgs.roleOf(org.id, p.userId));
  if (!org || !member || (p.tokenOrgId && p.tokenOrgId !== org.id)) throw notFound("organization");
  const expiresAt = input.expires_days ? services.clock.now() + input.expires_days * DAY : null;
  return await services.accounts.createToken(ctx, {
    userId: p.userId,
    orgId: org.id,
    name: input.name,
    scope: input.scope,
    expiresAt,
  });
}

const listTokens = apiRoute("user", {
  method: "get",
  path: "/api/v1/tokens",
  tags: ["tokens"],
  summary: "Your API tokens (values are never shown again)",
  responses: { 200: jsonResponse(z.object({ items: z.array(TokenSchema) }), "Tokens") },
});

const createToken = apiRoute("user", {
  method: "post",
  path: "/api/v1/tokens",
  tags: ["tokens"],
  summary: "Create an API token; the value is in this response only",
  request: jsonBody(CreateTokenInput),
  responses: { 201: jsonResponse(z.object({ token: z.string(), record: TokenSchema }), "Created") },
});

const revokeToken = apiRoute("user", {
  method: "delete",
  path: "/api/v1/tokens/{id}",
  tags: ["tokens"],
  summary: "Revoke one of your tokens",
  request: { params: IdParam },
  responses: { 204: { description: "Revoked" } },
});

/** API token endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listTokens, async (c) => {
    const items = await c.var.services.tokens.listForUser(principalOf(c).userId);
    return c.json({ items: items.map(({ user_id: _, ...t }) => t) }, 200);
  });

  app.openapi(createToken, async (c) => {
    const { token, record } = await createTokenFor(
      c.var.services,
      principalOf(c),
      actionContext(c),
      c.req.valid("json"),
    );
    const { user_id: _, ...view } = record;
    c.header("Cache-Control", "no-store");
    return c.json({ token, record: view }, 201);
  });

  app.openapi(revokeToken, async (c) => {
    await c.var.services.accounts.revokeToken(
      actionContext(c),
      principalOf(c).userId,
      c.req.valid("param").id,
    );
    return c.body(null, 204);
  });
}
