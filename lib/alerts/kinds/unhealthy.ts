/**
 * unhealthy: Docker's own HEALTHCHECK reports a container unhealthy. Fires at once, or after the
 * rule's hold; resolves when it is healthy again, dies, or is removed.
 */
import type { EventRuleKind } from "./kind.ts";
import { containerFireInfo } from "./kind.ts";
import { fireAfterHold, startHold } from "./hold.ts";

/** The unhealthy kind. */
export const unhealthy: EventRuleKind = {
  containerEvent(c, rule, e) {
    const { action } = e.event;
    if (action === "health_status" && e.status.includes("(unhealthy)")) {
      const s = c.subject(rule, e.subject, e.host.id, e.event.id);
      if (s.state !== "ok") return;
      if (rule.holdMs > 0) startHold(c, s, e);
      else c.fire(s, null, containerFireInfo(rule, e, { value: null }));
    } else if (
      (action === "health_status" && e.status.includes("(healthy)")) || action === "die" || e.gone
    ) {
      const s = c.existing(rule, e.subject);
      if (s) c.resolve(s);
    }
  },
  tickSubject: fireAfterHold,
};
