/**
 * The periodic half of the engine, run every 30 s by a lease-protected job: host offline (no
 * connection here and no report for the rule's hold time), event rules whose hold elapsed,
 * restart loops that calmed down, and reminders (or first notifications withheld until now, e.g.
 * by quiet hours). All of it runs on the engine's worker, after what is already queued.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { AlertEngine, OrgState } from "./engine.ts";
import type { HostInfo } from "./compile.ts";
import { ruleCoversHost } from "./compile.ts";
import { alertTitle, firingDetail } from "./describe.ts";
import { inQuietHours, notificationDue } from "./evaluator.ts";

/** Longest look back for the last report of a host (an hour covers any sensible offline hold). */
const MAX_REPORT_LOOKBACK_MS = 3600_000;

/** Runs one tick; resolves when its state changes are persisted. */
export async function alertTick(
  deps: { db: Db; clock: Clock; engine: AlertEngine; isOnline(hostId: string): boolean },
): Promise<{ orgs: number }> {
  const { db, clock, engine } = deps;
  let count = 0;
  await engine.task(async () => {
    const now = clock.now();
    const hostRows = await db.selectFrom("hosts").select([
      "id",
      "org_id",
      "name",
      "labels",
      "enrolled_at",
      "last_seen_at",
    ]).where("removed_at", "is", null).where("enrolled_at", "is not", null).execute();
    const orgIds = new Set(hostRows.map((h) => h.org_id));
    // Organizations with something firing need reminders even when they have no hosts left.
    for (
      const r of await db.selectFrom("alert_rule_states").select("org_id").distinct()
        .where("state", "!=", "ok").execute()
    ) orgIds.add(r.org_id);
    const reports = new Map<string, number>();
    for (
      const r of await db.selectFrom("metric_batches").select((eb) => [
        "host_id",
        eb.fn.max("received_at").as("at"),
      ]).where("received_at", ">", now - MAX_REPORT_LOOKBACK_MS).groupBy("host_id").execute()
    ) reports.set(r.host_id, Number(r.at));

    for (const orgId of orgIds) {
      const org = await engine.loadOrg(orgId);
      count++;
      const hosts: HostInfo[] = hostRows.filter((h) => h.org_id === orgId).map((h) => ({
        ...h,
        labels: JSON.parse(h.labels),
        enrolled_at: h.enrolled_at === null ? null : Number(h.enrolled_at),
        last_seen_at: h.last_seen_at === null ? null : Number(h.last_seen_at),
      }));
      checkOffline(org, hosts, reports, now);
      holdsAndLoops(org, now);
      reminders(org, now);
    }
  });
  await engine.idle();
  return { orgs: count };

  function checkOffline(
    org: OrgState,
    hosts: HostInfo[],
    reports: Map<string, number>,
    now: number,
  ) {
    const rules = org.rules.filter((r) => r.spec.event === "host_offline");
    if (!rules.length) return;
    const live = new Set(hosts.map((h) => h.id));
    for (const h of hosts) {
      const last = Math.max(
        engine.lastReport.get(h.id) ?? 0,
        reports.get(h.id) ?? 0,
        h.last_seen_at ?? 0,
        h.enrolled_at ?? 0,
      );
      const connected = deps.isOnline(h.id);
      for (const rule of rules) {
        if (!ruleCoversHost(rule, h)) continue;
        const s = engine.subjectOf(org, rule, h.id, h.id);
        const down = !connected && now - last >= rule.holdMs;
        if (down && s.state !== "firing") {
          const silentS = Math.round((now - last) / 1000);
          engine.fireNow(org, s, silentS, {
            hostName: h.name,
            containerName: null,
            title: alertTitle(rule, h.name, null, ""),
            detail: firingDetail(rule, { value: silentS }),
          });
        } else if (!down && s.state === "firing") engine.resolveNow(org, s);
      }
    }
    // A removed host is not coming back: end its offline alert.
    for (const s of org.subjects.values()) {
      const rule = org.byId.get(s.ruleId);
      if (rule?.spec.event === "host_offline" && s.state === "firing" && !live.has(s.hostId)) {
        engine.resolveNow(org, s);
      }
    }
  }

  function holdsAndLoops(org: OrgState, now: number) {
    for (const s of org.subjects.values()) {
      const rule = org.byId.get(s.ruleId);
      if (!rule || rule.threshold) continue;
      const ev = rule.spec.event;
      if (s.state === "pending" && (ev === "container_exited" || ev === "unhealthy")) {
        if (now - s.since < rule.holdMs) continue;
        const plan = org.plans.get(s.hostId);
        const hostName = plan?.host.name ?? s.hostId;
        const value = s.value;
        const ctrId = s.containerId;
        engine.enqueue({
          kind: "fire",
          org,
          subj: Object.assign(s, { state: "firing" as const, since: now }),
          snap: { state: "firing", since: now, value, lastEventAt: s.lastEventAt },
          info: async () => {
            const name = s.name ?? await engine.containerNameOf(s.hostId, ctrId);
            return {
              hostName,
              containerName: name,
              title: alertTitle(rule, hostName, name, ""),
              detail: firingDetail(rule, { value, exitCode: value, container: name }),
            };
          },
        });
      } else if (s.state === "firing" && ev === "restart_loop") {
        const windowMs = (rule.spec.event_window_s ?? 300) * 1000;
        if (now - (s.lastEventAt ?? s.since) >= windowMs) {
          s.events = [];
          engine.resolveNow(org, s);
        }
      }
    }
  }

  function reminders(org: OrgState, now: number) {
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
}
