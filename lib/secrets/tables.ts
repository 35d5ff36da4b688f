/** Table types of the secrets module (its migration: lib/secrets/migration.ts). */

/** An organization's secret: what it is called and which version is current; never its value. */
export interface SecretsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  /** text: usable as an environment variable and a file; binary: a file only. */
  kind: "text" | "binary";
  current_version: number;
  created_by: string | null;
  created_at: number;
  updated_by: string | null;
  updated_at: number;
}

/** One value of a secret, encrypted (lib/crypto/secrets.ts) under context `secret:<id>:v<n>`. */
export interface SecretVersionsTable {
  secret_id: string;
  version: number;
  org_id: string;
  blob: string;
  /** The key id the blob's data key is wrapped under (a start-up check and the rotation read it). */
  key_id: string;
  size_bytes: number;
  created_by: string | null;
  created_at: number;
}

/** The trail of a secret: created, rotated (with the apps restarted), purged versions, used in a deploy. */
export interface SecretEventsTable {
  id: string;
  secret_id: string;
  org_id: string;
  at: number;
  kind: "created" | "rotated" | "restarted" | "purged" | "deployed";
  version: number | null;
  actor_name: string | null;
  message: string;
  /** JSON: kind-specific details (rotation mode, apps and their deployments), never a value. */
  data: string;
}

/** The secrets module's tables, merged into the database type by lib/db/schema.ts. */
export interface SecretsTables {
  secrets: SecretsTable;
  secret_versions: SecretVersionsTable;
  secret_events: SecretEventsTable;
}
