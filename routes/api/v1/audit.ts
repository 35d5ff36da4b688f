import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import type { AuditFilters } from "../../../lib/audit/service.ts";
import { AuditEntrySchema, jsonResponse, OrgParam } from "./schemas.ts";
import { AuditQuery } from "../../_schemas/audit.ts";

/** A page of audit entries and the cursor of the next one. */
export const AuditPage = z.object({
  items: z.array(AuditEntrySchema),
  next_before: z.string().nullable(),
});

const listAudit = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/orgs/{org}/audit",
  tags: ["audit"],
  summary: "Audit log of an organization, newest first, paginated by cursor",
  request: { params: OrgParam, query: AuditQuery.omit({ org: true }) },
  responses: {
    200: jsonResponse(AuditPage, "Entries; pass next_before as before for the next page"),
  },
});

/** One page of the organization's audit log (also the deprecated `/api/v1/audit`). */
export async function auditPage(c: AppContext, q: Omit<AuditFilters, "orgId">) {
  const { org } = orgScopeOf(c);
  const { rows, nextBefore } = await c.var.services.audit.list({ ...q, orgId: org.id });
  return { items: rows, next_before: nextBefore };
}

/** Audit log endpoint. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listAudit, async (c) => c.json(await auditPage(c, c.req.valid("query")), 200));
}
