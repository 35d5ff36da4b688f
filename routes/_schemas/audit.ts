import { z } from "../../lib/http/openapi.ts";

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
