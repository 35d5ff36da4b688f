/** Request schemas of account resources that the API and the account pages both validate with. */
import { z } from "../../lib/http/openapi.ts";
import { nameSchema, slugSchema } from "../../lib/auth/schema.ts";

/** Input of token creation (the API and the tokens page). */
export const CreateTokenInput = z.object({
  name: nameSchema,
  org: slugSchema,
  scope: z.enum(["read", "write"]),
  expires_days: z.coerce.number().int().min(1).max(3650).nullable().optional().openapi({
    description: "Days until the token expires; omit or null for no expiry",
  }),
});
