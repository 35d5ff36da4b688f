import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, principalOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, TokenSchema } from "./schemas.ts";
import { createTokenFor } from "../../../lib/auth/use_cases.ts";
import { CreateTokenInput } from "../../_schemas/account.ts";

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
