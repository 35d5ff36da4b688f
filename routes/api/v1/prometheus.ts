import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { prometheusScrape } from "../../../lib/metrics/use_cases.ts";

const scrape = apiRoute("org:viewer", {
  method: "get",
  path: "/metrics",
  tags: ["metrics"],
  summary:
    "Latest values of the organization's hosts and containers in Prometheus text format. Scrape with `authorization: Bearer <read token>` (the token's organization), or ?org= for a session.",
  request: { query: z.object({ org: z.string().optional() }) },
  responses: {
    200: {
      description: "Prometheus exposition text",
      content: { "text/plain": { schema: z.string() } },
    },
  },
});

/** The Prometheus scrape endpoint. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(scrape, async (c) => {
    const { org } = orgScopeOf(c);
    const text = await prometheusScrape(c.var.services, org.id);
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
