/** Table types for Kysely. Timestamps are integer milliseconds; booleans are 0/1 integers on both dialects. */

export type OrgRole = "owner" | "admin" | "member" | "viewer";
export type TokenScope = "read" | "write";

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_admin: number;
  created_at: number;
  password_changed_at: number;
}

export interface OrganizationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: number;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: OrgRole;
  created_at: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  org_id: string;
  name: string;
  scope: TokenScope;
  token_hash: string;
  /** First characters of the token, shown in lists so users can tell tokens apart. */
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_type: "user" | "token" | "system" | "anonymous";
  actor_id: string | null;
  actor_name: string | null;
  org_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  status: "ok" | "error";
  error: string | null;
  duration_ms: number;
  ip: string | null;
  metadata: string;
}

export interface JobLeasesTable {
  name: string;
  /** The last time slot (ms since epoch, floored to the job's interval) that some replica claimed. */
  last_slot: number;
  holder: string;
  claimed_at: number;
}

export interface KvTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  job_leases: JobLeasesTable;
  kv: KvTable;
}
