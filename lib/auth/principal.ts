import type { OrgRole, TokenScope } from "../db/schema.ts";

/** Who is calling: a signed-in user (session) or an API token acting for its user in one organization. */
export interface Principal {
  kind: "session" | "token";
  userId: string;
  email: string;
  name: string;
  isAdmin: boolean;
  /** Session id hash (kind "session") or token id (kind "token"). */
  credentialId: string;
  /** Tokens are bound to one organization and a scope; sessions are not. */
  tokenOrgId?: string;
  tokenScope?: TokenScope;
  /** When the token expires (null: never); a token may not mint one that outlives it. */
  tokenExpiresAt?: number | null;
}

/** Organization roles from most to least powerful. */
export const ORG_ROLES: readonly OrgRole[] = ["owner", "admin", "member", "viewer"];

/** Whether `role` is at least `required` (owner ≥ admin ≥ member ≥ viewer). */
export function roleAtLeast(role: OrgRole, required: OrgRole): boolean {
  return ORG_ROLES.indexOf(role) <= ORG_ROLES.indexOf(required);
}
