import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { AuditEntrySchema, jsonResponse } from "./schemas.ts";

/** Filters of the audit log, shared by the API and the audit page. */
export const AuditQuery = z.object({
  org: z.string().optional().openapi({
    description: "Organization slug; optional when the caller has one",
  }),
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  target: z.string().max(200).optional(),
  status: z.enum(["ok", "error"]).optional(),
  from: z.coerce.number().int().min(0).optional().openapi({
    description: "Earliest time, ms since epoch",
  }),
  to: z.coerce.number().int().min(0).optional().openapi({
    description: "Latest time, ms since epoch",
  }),
  before: z.string().regex(/^[0-9a-f-]{36}$/, "must be a cursor from next_before").optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

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
