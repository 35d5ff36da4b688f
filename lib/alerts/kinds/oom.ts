/**
 * oom: the kernel killed a process of a container for memory. An instant alert (it has no end to
 * wait for), at most one per container per repeat interval.
 */
import type { EventRuleKind } from "./kind.ts";
import { containerFireInfo } from "./kind.ts";

/** The oom kind. */
export const oom: EventRuleKind = {
  containerEvent(c, rule, e) {
    if (e.event.action !== "oom") return;
    const s = c.subject(rule, e.subject, e.host.id, e.event.id);
    // One OOM alert per container per repeat interval (at least a minute): a container that
    // is OOM-killed in a loop should not send a message per kill.
    const quiet = Math.max(rule.repeatMs, 60_000);
    if (s.lastEventAt !== null && c.now - s.lastEventAt < quiet) return;
    c.instant(s, null, containerFireInfo(rule, e, { value: null }));
  },
};
