/**
 * The periodic half of the engine, run every 30 s by a lease-protected job: the rule kinds' checks
 * over hosts (host offline) and over subjects (event holds elapsed, restart loops calmed down),
 * then reminders (or first notifications withheld until now, e.g. by quiet hours). All of it runs
 * on the engine's worker, after what is already queued.
 */
import type { Clock } from "../../util/clock.ts";
import type { AlertFacts, HostInfo } from "../facts.ts";
import type { StateStore } from "../state_store.ts";
import { inQuietHours, notificationDue } from "../evaluator.ts";
import { EVENT_RULE_KINDS, kindOf } from "../kinds/mod.ts";
import type { HostLiveness } from "../kinds/kind.ts";
import type { AlertEngine } from "./engine.ts";
import type { OrgState } from "./cache.ts";

/** Longest look back for the last report of a host (an hour covers any sensible offline hold). */
const MAX_REPORT_LOOKBACK_MS = 3600_000;

/** What a tick reads and drives. */
export interface TickDeps {
  clock: Clock;
  engine: AlertEngine;
  facts: Pick<AlertFacts, "enrolledHosts" | "lastReports">;
  states: StateStore;
  isOnline(hostId: string): boolean;
}

/** Runs one tick; resolves when its state changes are persisted. */
export async function alertTick(deps: TickDeps): Promise<{ orgs: number }> {
  const { clock, engine, facts } = deps;
  let count = 0;
  await engine.task(async () => {
    const now = clock.now();
    const hosts = await facts.enrolledHosts();
    const orgIds = new Set(hosts.map((h) => h.org_id));
    // Organizations with something firing need reminders even when they have no hosts left.
    for (const id of await deps.states.orgsWithOpenStates()) orgIds.add(id);
    const reports = await facts.lastReports(now - MAX_REPORT_LOOKBACK_MS);
    const liveness = (h: HostInfo): HostLiveness => ({
      host: h,
      lastHeard: Math.max(
        engine.lastReport.get(h.id) ?? 0,
        reports.get(h.id) ?? 0,
        h.last_seen_at ?? 0,
        h.enrolled_at ?? 0,
      ),
      connected: deps.isOnline(h.id),
    });

    for (const orgId of orgIds) {
      const org = await engine.loadOrg(orgId);
      count++;
      const c = engine.context(org, now);
      for (const [event, kind] of Object.entries(EVENT_RULE_KINDS)) {
        if (!kind.tickHosts) continue;
        const rules = org.rules.filter((r) => r.spec.event === event);
        if (!rules.length) continue;
        kind.tickHosts(c, rules, hosts.filter((h) => h.org_id === orgId).map(liveness));
      }
      c.each((s, rule) => {
        if (!rule.threshold) kindOf(rule)?.tickSubject?.(c, rule, s);
      });
      reminders(engine, org, now);
    }
  });
  await engine.idle();
  return { orgs: count };
}

/** Queues the notifications due now: reminders, and first ones withheld when their alert fired. */
function reminders(engine: AlertEngine, org: OrgState, now: number): void {
  for (const s of org.subjects.values()) {
    if (s.state !== "firing" || !s.alertId) continue;
    const rule = org.byId.get(s.ruleId);
    if (!rule) continue;
    const due = notificationDue(s, rule.repeatMs, now);
    if (!due) continue;
    // Cheap checks first: no point queueing work that the gate will refuse.
    if (inQuietHours(rule.quiet, now)) continue;
    if (s.containerId && engine.hostDown(org, s.hostId, now)) continue;
    engine.notify(org, s, due);
  }
}
