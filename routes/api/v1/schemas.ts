import { z } from "../../../lib/http/openapi.ts";
import {
  emailSchema,
  nameSchema,
  orgRoleSchema,
  passwordSchema,
  slugSchema,
} from "../../../lib/auth/schema.ts";

/** Shared OpenAPI schemas of the v1 API (response shapes are explicit so secrets cannot leak by accident). */
export const OrgParam = z.object({
  org: z.string().openapi({ param: { name: "org", in: "path" }, example: "acme" }),
});
export const IdParam = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  is_admin: z.boolean(),
  created_at: z.number().int(),
}).openapi("User");

export const OrgSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  created_at: z.number().int(),
  role: orgRoleSchema.optional(),
}).openapi("Organization");

export const MemberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: orgRoleSchema,
  created_at: z.number().int(),
}).openapi("Member");

export const InvitationSchema = z.object({
  email: z.string(),
  role: orgRoleSchema,
  created_at: z.number().int(),
  expires_at: z.number().int(),
}).openapi("Invitation");

/** What an invitation shows: never whether an account with its email exists. */
export const invitationView = (
  i: { email: string; role: z.infer<typeof orgRoleSchema>; created_at: number; expires_at: number },
) => ({ email: i.email, role: i.role, created_at: i.created_at, expires_at: i.expires_at });

export const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  org_id: z.string(),
  scope: z.enum(["read", "write"]),
  prefix: z.string().openapi({
    description: "First characters of the token, to tell tokens apart",
  }),
  created_at: z.number().int(),
  expires_at: z.number().int().nullable(),
  last_used_at: z.number().int().nullable(),
  revoked_at: z.number().int().nullable(),
}).openapi("ApiToken");

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.number().int(),
  actor_type: z.enum(["user", "token", "system", "anonymous"]),
  actor_id: z.string().nullable(),
  actor_name: z.string().nullable(),
  org_id: z.string().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  target_name: z.string().nullable(),
  status: z.enum(["ok", "error"]),
  error: z.string().nullable(),
  duration_ms: z.number().int(),
  ip: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
}).openapi("AuditEntry");

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export { emailSchema, nameSchema, orgRoleSchema, passwordSchema, slugSchema };

/** Public view of a user row. */
export function userView(
  u: { id: string; email: string; name: string; is_admin: number; created_at: number },
) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    is_admin: u.is_admin === 1,
    created_at: u.created_at,
  };
}
