/**
 * What the quotas module tells other modules (lib/events.ts):
 * - `quotas.usage`: an organization's use of one resource crossed a level (80 % warning, 90 %
 *   critical, 100 % full, above the limit: over, which starts a grace period) up or down (with
 *   hysteresis), or a violation's grace period ended and deploys are blocked; each exactly once
 *   across hub replicas (lib/quotas/watch.ts). The alerts module raises `quota_usage` notices.
 */
import type { Resource } from "./resources.ts";

/** Where an organization's use of a resource stands against its limit. */
export type QuotaLevel = "ok" | "warning" | "critical" | "full" | "over";

/** A level change or the end of a violation's grace period, as the event and the audit tell it. */
export interface QuotaNotice {
  org_id: string;
  resource: Resource;
  /**
   * `level`: the level moved from `from` to `to`; `blocked`: grace ended, deploys are blocked;
   * `apps_stopped`: the violation action (CAPSTAN_QUOTA_VIOLATION_ACTION=stop_lowest_priority)
   * stopped `apps` (lib/enforcement).
   */
  change: "level" | "blocked" | "apps_stopped";
  from: QuotaLevel;
  to: QuotaLevel;
  used: number;
  /** The limit in force (null: the limit was removed, which clears the level). */
  limit: number | null;
  /** Use as a whole percentage of the limit (null: unlimited). */
  pct: number | null;
  /** When the level now held was entered (ms); for `blocked`, when the violation started. */
  since: number;
  /** When a violation's grace period ends (null: no violation). */
  grace_ends_at: number | null;
  /** `apps_stopped`: the names of the apps stopped, lowest priority first. */
  apps?: string[];
  /** `apps_stopped`: when they were stopped (ms). */
  at?: number;
}

declare module "../events.ts" {
  interface DomainEvents {
    "quotas.usage": QuotaNotice;
  }
}
