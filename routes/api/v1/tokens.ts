import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, principalOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, nameSchema, slugSchema, TokenSchema } from "./schemas.ts";
import { forbidden, HttpError, notFound } from "../../../lib/http/errors.ts";
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

/**
 * Refuses what an API token may not mint: a scope wider than its own, or a token that outlives it
 * (so a stolen short-lived token cannot make itself a permanent one).
 */
function assertTokenMayMint(
  p: Principal,
  scope: "read" | "write",
  expiresAt: number | null,
  now: number,
) {
  if (p.kind !== "token") return;
  if (scope === "write" && p.tokenScope !== "write") {
    throw forbidden("A read-scoped token cannot create a write-scoped token");
  }
  const limit = p.tokenExpiresAt;
  if (limit === null || limit === undefined || (expiresAt !== null && expiresAt <= limit)) return;
  const days = Math.floor((limit - now) / DAY);
  const until = new Date(limit).toISOString();
  throw new HttpError(400, "validation", "Invalid input: expires_days", {
    expires_days: days < 1
      ? `cannot be set: this token expires at ${until}, in less than a day, and may not create a token that outlives it`
      : `must be at most ${days} ${
        days === 1 ? "day" : "days"
      }: this token expires at ${until} and may not create a token that outlives it`,
  });
}

/**
 * Creates a token for the caller in an organization they belong to (404 otherwise). An API token
 * acting may create tokens only in its own organization, no wider and no longer-lived than itself.
 */
export async function createTokenFor(
  services: Services,
  p: Principal,
  ctx: ReturnType<typeof actionContext>,
  input: z.infer<typeof CreateTokenInput>,
) {
  const org = await services.orgs.bySlug(input.org);
  const member = org && (p.isAdmin || await services.orgs.roleOf(org.id, p.userId));
  if (!org || !member || (p.tokenOrgId && p.tokenOrgId !== org.id)) throw notFound("organization");
  const now = services.clock.now();
  const expiresAt = input.expires_days ? now + input.expires_days * DAY : null;
  assertTokenMayMint(p, input.scope, expiresAt, now);
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
  summary:
    "Your API tokens (values are never shown again); called with a token, those of its organization",
  responses: { 200: jsonResponse(z.object({ items: z.array(TokenSchema) }), "Tokens") },
});

const createToken = apiRoute("user", {
  method: "post",
  path: "/api/v1/tokens",
  tags: ["tokens"],
  summary:
    "Create an API token; the value is in this response only. A token may create tokens only in its own organization, no wider in scope and expiring no later than itself",
  request: jsonBody(CreateTokenInput),
  responses: { 201: jsonResponse(z.object({ token: z.string(), record: TokenSchema }), "Created") },
});

const revokeToken = apiRoute("user", {
  method: "delete",
  path: "/api/v1/tokens/{id}",
  tags: ["tokens"],
  summary: "Revoke one of your tokens (with a token: one of its organization's)",
  request: { params: IdParam },
  responses: { 204: { description: "Revoked" } },
});

/** API token endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listTokens, async (c) => {
    const p = principalOf(c);
    const items = await c.var.services.tokens.listForUser(p.userId, p.tokenOrgId);
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
    const p = principalOf(c);
    await c.var.services.accounts.revokeToken(
      actionContext(c),
      p.userId,
      c.req.valid("param").id,
      p.tokenOrgId,
    );
    return c.body(null, 204);
  });
}
