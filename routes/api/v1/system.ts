import type { OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "kysely";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { jsonResponse } from "./schemas.ts";
import { migrations } from "../../../migrations/mod.ts";

const healthz = apiRoute("public", {
  method: "get",
  path: "/healthz",
  tags: ["system"],
  summary: "Ready: database reachable and migrations applied",
  responses: {
    200: jsonResponse(
      z.object({ status: z.literal("ok"), database: z.enum(["sqlite", "postgres"]) }),
      "Ready",
    ),
    503: jsonResponse(z.any(), "Not ready"),
  },
});

/** Health endpoint for load balancers and scripts. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthz, async (c) => {
    const { db, dbh } = c.var.services;
    try {
      const applied = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(
        db,
      );
      if (Number(applied.rows[0].n) < Object.keys(migrations).length) {
        throw new Error("migrations pending");
      }
    } catch (err) {
      throw new HttpError(
        503,
        "not_ready",
        `Not ready: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return c.json({ status: "ok" as const, database: dbh.dialect }, 200);
  });
}
