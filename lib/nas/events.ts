/**
 * What the NAS module tells other modules (lib/events.ts):
 * - `nas.status`: a target was checked (its sites' ages, or why it could not be read) or removed.
 *   The alerts module listens and raises `nas_backup_stale`. Names, paths and times only: never a
 *   credential.
 */

/** One site (a direct child of the backup root) as the last check saw it. */
export interface NasSiteStatus {
  name: string;
  /** Modification time of its newest entry (ms). */
  newest_mtime: number;
  /** Whole hours since then, at the check. */
  age_hours: number;
  /** Older than the target's threshold. */
  stale: boolean;
}

export interface NasStatus {
  org_id: string;
  target: { id: string; name: string; host: string };
  /** The target was deleted: whatever it raised ends. */
  removed?: boolean;
  /** Why the check failed (connection, host key, listing); null for a good check. */
  error: string | null;
  stale_threshold_hours: number;
  /** The sites found (empty when the check failed: nothing is known of them this time). */
  sites: NasSiteStatus[];
}

declare module "../events.ts" {
  interface DomainEvents {
    "nas.status": NasStatus;
  }
}
