import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { renderPrometheus } from "../../../lib/metrics/prometheus.ts";

/** Values older than this are stale and left out, as Prometheus would mark them. */
const FRESH_MS = 5 * 60_000;

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
    const { hosts, agents, metrics, db, clock } = c.var.services;
    const list = await hosts.list(org.id);
    const values = await metrics.query.latest(list.map((h) => h.id), clock.now() - FRESH_MS);
    const names = new Map(
      (await db.selectFrom("containers").select(["id", "name"]).where("org_id", "=", org.id).limit(
        100_000,
      ).execute())
        .map((r) => [r.id, r.name]),
    );
    const text = renderPrometheus(
      list.map((h) => ({ id: h.id, name: h.name, online: agents.isOnline(h.id) })),
      values,
      names,
    );
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
