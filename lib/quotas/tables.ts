/** Table types of the quotas module (its migration: lib/quotas/migration.ts). */

/** The install's default limit of one resource (absent: unlimited). */
export interface QuotaDefaultsTable {
  resource: string;
  value: number;
  updated_at: number;
  updated_by: string | null;
}

/**
 * An organization's own limit of one resource, with why and until when: past `expires_at` it no
 * longer applies and the default does again. `value` null makes the resource unlimited for it.
 */
export interface QuotaOverridesTable {
  org_id: string;
  resource: string;
  value: number | null;
  reason: string;
  expires_at: number | null;
  set_by: string | null;
  set_at: number;
}

/**
 * An organization's use of one limited resource as the 30 s job last found it (lib/quotas/watch.ts):
 * the level held since `since`; at level `over` a grace period ends at `grace_ends_at`, after
 * which `blocked` is 1 (deploys are blocked until the use fits the limit again).
 */
export interface QuotaUsageTable {
  org_id: string;
  resource: string;
  used: number;
  limit_value: number | null;
  pct: number | null;
  level: string;
  since: number;
  grace_ends_at: number | null;
  blocked: number;
  updated_at: number;
}

/** The most an org used of a limited resource in one UTC hour, and the limit then (90 days kept). */
export interface QuotaHistoryTable {
  org_id: string;
  resource: string;
  /** The hour's start, ms since the epoch. */
  hour: number;
  max_used: number;
  limit_value: number | null;
}

export interface QuotasTables {
  quota_defaults: QuotaDefaultsTable;
  quota_overrides: QuotaOverridesTable;
  quota_usage: QuotaUsageTable;
  quota_history: QuotaHistoryTable;
}
