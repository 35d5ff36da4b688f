import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { AuditEntrySchema, jsonResponse } from "./schemas.ts";
import { AuditQuery } from "../../_schemas/audit.ts";

const listAudit = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/audit",
  tags: ["audit"],
  summary: "Audit log of an organization, newest first, paginated by cursor",
  request: { query: AuditQuery },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(AuditEntrySchema), next_before: z.string().nullable() }),
      "Entries; pass next_before as before for the next page",
    ),
  },
});

/** Audit log endpoint. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAudit, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    const { rows, nextBefore } = await c.var.services.audit.list({ ...q, orgId: org.id });
    return c.json({ items: rows, next_before: nextBefore }, 200);
  });
}
