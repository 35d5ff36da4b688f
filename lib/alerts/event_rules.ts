/**
 * Event rules fed by the agents' Docker events: container exited (non-zero and not restarted),
 * restart loop (N `die` events within M minutes), unhealthy, OOM kill. The agent forwards each
 * event with the container's settled state, whose status text carries the exit code ("Exited (1)
 * 3 seconds ago") and the health ("Up 2 minutes (unhealthy)").
 */
import type { AlertEngine, FireInfo, OrgState } from "./engine.ts";
import type { CompiledRule, HostInfo } from "./compile.ts";
import { pruneWindow } from "./evaluator.ts";
import { alertTitle, firingDetail } from "./describe.ts";

/** The part of an agent event the rules read. */
export interface ContainerEvent {
  type: string;
  action: string;
  id: string;
  name?: string;
  time_nano: number;
  container?: { name: string; state: string; status: string };
}

/** Exit code from a container status such as "Exited (137) 2 seconds ago". */
export function exitCodeOf(status: string): number | null {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : null;
}

/** Applies one event to the event rules covering its host; runs on the engine's worker. */
export async function applyContainerEvent(
  engine: AlertEngine,
  host: { id: string; org_id: string },
  e: ContainerEvent,
  now: number,
): Promise<void> {
  if (e.type !== "container" || !/^[a-f0-9]{64}$/.test(e.id)) return;
  const org = await engine.loadOrg(host.org_id);
  const plan = await engine.planFor(org, host.id);
  if (!plan || !plan.events.length) return;
  const name = (e.container?.name ?? e.name ?? e.id.slice(0, 12)).replace(/^\//, "");
  const status = e.container?.status ?? "";
  const subjectName = `${host.id}/${e.id}`;
  const info = (
    rule: CompiledRule,
    h: HostInfo,
    o: { value: number | null; exitCode?: number | null },
  ): FireInfo => ({
    hostName: h.name,
    containerName: name,
    title: alertTitle(rule, h.name, name, ""),
    detail: firingDetail(rule, { ...o, container: name }),
  });
  const existing = (rule: CompiledRule) => org.subjects.get(`${rule.id}\u0000${subjectName}`);
  const subject = (rule: CompiledRule) => engine.subjectOf(org, rule, subjectName, host.id, e.id);
  const gone = e.action === "destroy";

  for (const rule of plan.events) {
    switch (rule.spec.event) {
      case "container_exited": {
        if (e.action === "die") {
          const code = exitCodeOf(status);
          // A container its restart policy brings back is a restart loop's business, not this one's.
          if (e.container?.state !== "exited" || code === null || code === 0) break;
          const s = subject(rule);
          if (s.state !== "ok") break;
          if (rule.holdMs > 0) {
            s.state = "pending";
            s.since = now;
            s.value = code;
            s.name = name;
            engine.sync(org, s);
          } else {engine.fireNow(
              org,
              s,
              code,
              info(rule, plan.host, { value: code, exitCode: code }),
            );}
        } else if (e.action === "start" || gone) {
          const s = existing(rule);
          if (s) engine.resolveNow(org, s);
        }
        break;
      }
      case "restart_loop": {
        if (e.action === "die") {
          const s = subject(rule);
          const t = Math.floor(e.time_nano / 1e6);
          s.events ??= [];
          // Events replayed after a reconnect arrive again; count each engine time once.
          if (!s.events.includes(t)) s.events.push(t);
          s.events.sort((a, b) => a - b);
          pruneWindow(
            s.events,
            Math.max(t, s.events.at(-1)!),
            (rule.spec.event_window_s ?? 300) * 1000,
          );
          s.lastEventAt = now;
          if (s.state === "firing") engine.sync(org, s);
          else if (s.events.length >= (rule.spec.event_count ?? 3)) {
            engine.fireNow(
              org,
              s,
              s.events.length,
              info(rule, plan.host, { value: s.events.length }),
            );
          }
        } else if (gone) {
          const s = existing(rule);
          if (s) engine.resolveNow(org, s);
        }
        break;
      }
      case "unhealthy": {
        const unhealthy = e.action === "health_status" && status.includes("(unhealthy)");
        if (unhealthy) {
          const s = subject(rule);
          if (s.state !== "ok") break;
          if (rule.holdMs > 0) {
            s.state = "pending";
            s.since = now;
            s.name = name;
            engine.sync(org, s);
          } else engine.fireNow(org, s, null, info(rule, plan.host, { value: null }));
        } else if (
          (e.action === "health_status" && status.includes("(healthy)")) || e.action === "die" ||
          gone
        ) {
          const s = existing(rule);
          if (s) engine.resolveNow(org, s);
        }
        break;
      }
      case "oom": {
        if (e.action !== "oom") break;
        const s = subject(rule);
        // One OOM alert per container per repeat interval (at least a minute): a container that
        // is OOM-killed in a loop should not send a message per kill.
        const quiet = Math.max(rule.repeatMs, 60_000);
        if (s.lastEventAt !== null && now - s.lastEventAt < quiet) break;
        engine.instant(org, s, null, info(rule, plan.host, { value: null }));
        break;
      }
    }
  }
}

/** A health check's state change (lib/health/service.ts), as the health_check rules read it. */
export interface HealthCheckChange {
  host_id: string;
  check_id: string;
  check_name: string;
  container_id: string;
  container_name: string;
  /** unhealthy fires; anything else (healthy, unknown, removed) resolves. */
  to: string;
  retries: number;
  error: string | null;
}

/**
 * Applies a health check's state change to the health_check rules covering its host; runs on the
 * engine's worker. The check's own retries are the hold, so the alert fires at once.
 */
export async function applyHealthChange(
  engine: AlertEngine,
  host: { id: string; org_id: string },
  c: HealthCheckChange,
): Promise<void> {
  const org = await engine.loadOrg(host.org_id);
  const plan = await engine.planFor(org, host.id);
  if (!plan) return;
  const subjectName = `${host.id}/${c.container_id}/${c.check_id}`;
  for (const rule of plan.events) {
    if (rule.spec.event !== "health_check") continue;
    if (c.to === "unhealthy") {
      const s = engine.subjectOf(org, rule, subjectName, host.id, c.container_id);
      if (s.state === "firing") continue;
      s.name = c.container_name;
      const times = c.retries === 1 ? "once" : `${c.retries} times in a row`;
      engine.fireNow(org, s, null, {
        hostName: plan.host.name,
        containerName: c.container_name,
        title: alertTitle(rule, plan.host.name, c.container_name, c.check_name),
        detail: `Health check "${c.check_name}" of ${c.container_name} failed ${times}` +
          (c.error ? `: ${c.error}` : ""),
      });
    } else {
      const s = org.subjects.get(`${rule.id}\u0000${subjectName}`);
      if (s) engine.resolveNow(org, s);
    }
  }
}

/** Whether an event can matter to any event rule (cheap filter before queueing work). */
export function eventMatters(e: { type: string; action: string }): boolean {
  return e.type === "container" &&
    ["die", "start", "destroy", "health_status", "oom"].includes(e.action);
}

/** Re-exported for the periodic tick. */
export type { OrgState };
