/**
 * Violation actions (issue 21; lib/quotas/QUOTAS.md "Actions", lib/billing/BILLING.md): what
 * happens, besides blocked deploys, once a quota violation's or a wallet's grace period is over.
 *
 * - CAPSTAN_QUOTA_VIOLATION_ACTION=stop_lowest_priority: the org's running apps are stopped,
 *   lowest priority first (ties: newest first), until the violated resource fits its limit.
 *   Only resources a stop frees are acted on (CPU, memory reserved, replicas per service); a
 *   stop frees no app count or build minute, so those stay blocked only.
 * - CAPSTAN_BILLING_GRACE_ACTION=stop_apps: the org's running apps are all stopped.
 *
 * Two settings, not one: the two causes call for different answers (a quota is fairness between
 * teams, fixed by stopping just enough; a wallet debt is money, where everything running keeps
 * costing), and an operator may want one without the other.
 *
 * Each stop goes through the apps module's service (`stopForPolicy`: the stop intent, actor
 * "system", audited `app.stopped` with the reason). Its write is conditional on the app still
 * running, so of two hub replicas making the same choice exactly one stops each app; a replica
 * that loses one stops choosing (its picture is stale) and the next run re-reads. The pass runs
 * every 30 s while the block holds, so an app whose deployment was in progress is taken later.
 */
import type { RunningApp } from "../apps/service.ts";
import type { App } from "../apps/store.ts";
import type { Limits, Resource } from "../quotas/resources.ts";
import { formatAmount, RESOURCE_INFO } from "../quotas/resources.ts";
import type { UsageStanding } from "../quotas/watch.ts";
import type { Logger } from "../log.ts";

export type QuotaViolationAction = "block" | "stop_lowest_priority";
export type BillingGraceAction = "block" | "stop_apps";

/** Resources a stopped app frees. */
export const STOPPABLE: readonly Resource[] = [
  "cpu_millis",
  "memory_bytes",
  "replicas_per_service",
];

export interface EnforcementDeps {
  apps: {
    running(orgId: string): Promise<RunningApp[]>;
    stopForPolicy(app: App, reason: string, metadata?: Record<string, unknown>): Promise<boolean>;
  };
  quotas: { limits(orgId: string): Promise<Limits> };
  watch: {
    blockedViolations(): Promise<Array<UsageStanding & { org_id: string }>>;
    appsStopped(s: UsageStanding & { org_id: string }, apps: string[]): void;
  };
  wallet: {
    blockedOrgs(): Promise<Array<{ org_id: string; started_at: number; ends_at: number }>>;
    appsStopped(orgId: string, apps: string[]): Promise<void>;
  };
  quotaAction: QuotaViolationAction;
  walletAction: BillingGraceAction;
  log?: Logger;
}

/** Lowest priority first; of equal priority the newest first (the latest arrival yields). */
export function stopOrder(apps: RunningApp[]): RunningApp[] {
  return [...apps].sort((a, b) =>
    a.app.priority - b.app.priority || b.app.created_at - a.app.created_at ||
    (a.app.id < b.app.id ? 1 : -1)
  );
}

/**
 * Which running apps to stop, in order, for `resource` to fit `limit` given `used`: the stop
 * order, skipping apps whose stop frees none of it, until the remainder fits.
 */
export function choose(
  apps: RunningApp[],
  resource: Resource,
  used: number,
  limit: number,
): RunningApp[] {
  const picked: RunningApp[] = [];
  if (resource === "replicas_per_service") {
    // The figure is the most replicas any running service has: every app above the limit must
    // stop, whatever its priority (stopping another frees none of it).
    return stopOrder(apps).filter((a) => a.replicas > limit);
  }
  if (resource !== "cpu_millis" && resource !== "memory_bytes") return picked;
  let left = used;
  for (const a of stopOrder(apps)) {
    if (left <= limit) break;
    if (a[resource] <= 0) continue;
    picked.push(a);
    left -= a[resource];
  }
  return picked;
}

/** Creates the violation actions' pass. */
export function createEnforcement(deps: EnforcementDeps) {
  const { apps, quotas, watch, wallet } = deps;

  /** Stops `chosen` in order; stops at the first one this replica did not stop. */
  async function stopAll(
    chosen: RunningApp[],
    reason: string,
    metadata: Record<string, unknown>,
  ): Promise<string[]> {
    const stopped: string[] = [];
    for (const a of chosen) {
      let ok = false;
      try {
        ok = await apps.stopForPolicy(a.app, reason, metadata);
      } catch (err) {
        // Nothing was written (no manager reachable): the next run tries again.
        deps.log?.warn("enforcement: could not stop an app", {
          app: a.app.id,
          error: String(err),
        });
      }
      if (!ok) break;
      stopped.push(a.app.name);
    }
    return stopped;
  }

  /** One quota violation: stops what it takes for the resource to fit. Returns the names. */
  async function quotaPass(v: UsageStanding & { org_id: string }): Promise<string[]> {
    if (!STOPPABLE.includes(v.resource)) return [];
    const [limits, running] = await Promise.all([
      quotas.limits(v.org_id),
      apps.running(v.org_id),
    ]);
    const limit = limits[v.resource];
    // What the running apps' specs hold, which a stop frees at once. Not quotas.used(): it also
    // takes billing's observation of Swarm, up to a minute behind a stop, and the next pass would
    // stop more apps than the resource needs.
    const u = v.resource === "replicas_per_service"
      ? Math.max(0, ...running.map((a) => a.replicas))
      : running.reduce((n, a) => n + a[v.resource as "cpu_millis" | "memory_bytes"], 0);
    // Raised back, or freed since the job looked: nothing to do (the job clears the level).
    if (limit === undefined || u <= limit) return [];
    const chosen = choose(running, v.resource, u, limit);
    const info = RESOURCE_INFO[v.resource];
    const reason = `quota exceeded: ${info.label} uses ${formatAmount(v.resource, u)} of ${
      formatAmount(v.resource, limit)
    } since ${new Date(v.since).toISOString()}; the grace period ended ${
      new Date(v.grace_ends_at ?? v.since).toISOString()
    } (lowest priority stopped first)`;
    const stopped = await stopAll(chosen, reason, {
      cause: "quota",
      resource: v.resource,
      used: u,
      limit,
    });
    if (stopped.length) watch.appsStopped({ ...v, used: u, limit }, stopped);
    return stopped;
  }

  /** One blocked wallet: stops every running app. */
  async function walletPass(
    w: { org_id: string; started_at: number; ends_at: number },
  ): Promise<string[]> {
    const running = stopOrder(await apps.running(w.org_id));
    const reason = `wallet below zero: its grace period ended ${new Date(w.ends_at).toISOString()}`;
    const stopped = await stopAll(running, reason, { cause: "wallet" });
    if (stopped.length) await wallet.appsStopped(w.org_id, stopped);
    return stopped;
  }

  return {
    quotaPass,
    walletPass,

    /** The job: every blocked violation and wallet the configured actions apply to. */
    async run(): Promise<{ quota: number; wallet: number }> {
      let q = 0;
      let w = 0;
      if (deps.quotaAction === "stop_lowest_priority") {
        for (const v of await watch.blockedViolations()) q += (await quotaPass(v)).length;
      }
      if (deps.walletAction === "stop_apps") {
        for (const b of await wallet.blockedOrgs()) w += (await walletPass(b)).length;
      }
      return { quota: q, wallet: w };
    },
  };
}

export type Enforcement = ReturnType<typeof createEnforcement>;
