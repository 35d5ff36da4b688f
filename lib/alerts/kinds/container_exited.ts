/**
 * container_exited: a container stopped with a non-zero exit code and stayed stopped. Fires at
 * once, or after the rule's hold; resolves when the container starts again or is removed.
 */
import type { EventRuleKind } from "./kind.ts";
import { containerFireInfo } from "./kind.ts";
import { fireAfterHold, startHold } from "./hold.ts";

/** Exit code from a container status such as "Exited (137) 2 seconds ago". */
export function exitCodeOf(status: string): number | null {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : null;
}

/** The container_exited kind. */
export const containerExited: EventRuleKind = {
  containerEvent(c, rule, e) {
    const { action } = e.event;
    if (action === "die") {
      const code = exitCodeOf(e.status);
      // A container its restart policy brings back is a restart loop's business, not this one's.
      if (e.event.container?.state !== "exited" || code === null || code === 0) return;
      const s = c.subject(rule, e.subject, e.host.id, e.event.id);
      if (s.state !== "ok") return;
      if (rule.holdMs > 0) startHold(c, s, e, code);
      else c.fire(s, code, containerFireInfo(rule, e, { value: code, exitCode: code }));
    } else if (action === "start" || e.gone) {
      const s = c.existing(rule, e.subject);
      if (s) c.resolve(s);
    }
  },
  tickSubject: fireAfterHold,
};
