import { z } from "../../lib/http/openapi.ts";

/** Filters of the alert list, shared by the API and the notifications page. */
export const AlertQuery = z.object({
  state: z.enum(["firing", "resolved"]).optional(),
  severity: z.enum(["warning", "critical"]).optional(),
  host: z.string().max(64).optional().openapi({ description: "Host id" }),
  from: z.coerce.number().int().min(0).optional().openapi({
    description: "Started at or after, ms",
  }),
  to: z.coerce.number().int().min(0).optional().openapi({
    description: "Started at or before, ms",
  }),
  before: z.string().regex(/^[0-9a-f-]{36}$/, "must be a cursor from next_before").optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
