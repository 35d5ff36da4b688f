/**
 * The hold of per-container event rules (container_exited, unhealthy): with a hold, the event
 * makes the subject pending, and the periodic tick fires it once the hold has passed without the
 * container recovering.
 */
import type { CompiledRule } from "../compile.ts";
import { alertTitle, firingDetail } from "../describe.ts";
import type { Subject } from "../engine/subject.ts";
import type { ContainerEventFacts, RuleContext } from "./kind.ts";

/** Makes an ok subject pending from the event on (persisted, so a restart keeps the hold). */
export function startHold(
  c: RuleContext,
  s: Subject,
  e: ContainerEventFacts,
  value?: number,
): void {
  s.state = "pending";
  s.since = c.now;
  if (value !== undefined) s.value = value;
  s.name = e.name;
  c.sync(s);
}

/** Tick: fires a pending subject whose hold has passed, naming what the event named. */
export function fireAfterHold(c: RuleContext, rule: CompiledRule, s: Subject): void {
  if (s.state !== "pending" || c.now - s.since < rule.holdMs) return;
  const hostName = c.hostName(s.hostId);
  const value = s.value;
  const ctrId = s.containerId;
  c.fire(s, value, async () => {
    const name = s.name ?? await c.containerName(s.hostId, ctrId);
    return {
      hostName,
      containerName: name,
      title: alertTitle(rule, hostName, name, ""),
      detail: firingDetail(rule, { value, exitCode: value, container: name }),
    };
  }, c.now);
}
