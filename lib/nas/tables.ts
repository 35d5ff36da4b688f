/** Table types of the NAS backup status module (its migration: lib/nas/migration.ts). */

/**
 * A NAS reached over SSH whose backup folders Capstan reads (never writes). Credentials (the
 * private half of the generated key, or a password) live in one encrypted blob under context
 * `nas-target:<id>`, never in another column and never in an answer.
 */
export interface NasTargetsTable {
  id: string;
  org_id: string;
  name: string;
  host: string;
  port: number;
  user: string;
  auth: "key" | "password";
  /** Encrypted JSON `{ private_key?, password? }` (lib/nas/service.ts). */
  credentials: string;
  credentials_key_id: string;
  /** The generated key's public half (to paste into authorized_keys) and fingerprint. */
  public_key: string | null;
  key_fingerprint: string | null;
  /** The NAS's host key, pinned on the first check (known_hosts lines), and its fingerprint. */
  known_host: string | null;
  known_host_fingerprint: string | null;
  /** Absolute folder whose direct children are the sites. */
  backup_root: string;
  /** A site whose newest entry is older than this is stale (`nas_stale_threshold_hours`). */
  stale_threshold_hours: number;
  last_checked_at: number | null;
  /** Why the last check failed (no secret in it); null after a good one. */
  last_error: string | null;
  /** 1: the last listing stopped at its entry limit (newest times may be older than the truth). */
  truncated: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** One direct child of a target's backup root, as the last good check found it. */
export interface NasSitesTable {
  target_id: string;
  name: string;
  /** The newest entry inside the site (relative to it), or "" for the site itself when empty. */
  newest_path: string;
  /** Its modification time (ms since the epoch). */
  newest_mtime: number;
  checked_at: number;
}

/** The NAS module's tables, merged into the database type by lib/db/schema.ts. */
export interface NasTables {
  nas_targets: NasTargetsTable;
  nas_sites: NasSitesTable;
}
