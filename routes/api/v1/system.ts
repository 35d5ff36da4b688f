import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppContext, AppEnv } from "../../../lib/http/context.ts";
import { jsonResponse } from "./schemas.ts";
import { migrations } from "../../../migrations/mod.ts";
import { readinessOf } from "../../../lib/db/readiness.ts";

const Database = z.enum(["sqlite", "postgres"]);

const healthzRoute = apiRoute("public", {
  method: "get",
  path: "/healthz",
  tags: ["system"],
  summary:
    "Ready: database reachable within 0.8 s, migrations applied; degraded after a storage failure",
  description:
    "Always JSON, always within a second. `degraded` (200): the database failed to store or " +
    "serve data within the last minute (a full disk, a restart), though it answers now. " +
    "`unavailable` (503): it does not answer in time, fails, or migrations are pending.",
  responses: {
    200: jsonResponse(
      z.union([
        z.object({ status: z.literal("ok"), database: Database }),
        z.object({
          status: z.literal("degraded"),
          database: Database,
          failures: z.object({
            count_last_minute: z.number().int(),
            last_at: z.number().int(),
            last_error: z.string(),
          }),
        }),
      ]),
      "Ready, or degraded",
    ),
    503: jsonResponse(
      z.object({
        status: z.literal("unavailable"),
        database: Database,
        error: z.object({ code: z.literal("not_ready"), message: z.string() }),
      }),
      "Not ready",
    ),
  },
});

/**
 * Answers /healthz. lib/http/app.ts mounts it ahead of authentication, so a session cookie or a
 * stray header cannot make it wait for the database or answer HTML.
 */
export async function healthz(c: AppContext) {
  const r = await readinessOf(c.var.services.dbh, Object.keys(migrations).length)();
  c.header("Cache-Control", "no-store");
  return r.status === "unavailable" ? c.json(r, 503) : c.json(r, 200);
}

/** Health endpoint for load balancers and scripts. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthzRoute, healthz);
}
