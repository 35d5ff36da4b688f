/**
 * health_check: a Capstan health check (lib/health) became unhealthy. The check's own retries are
 * the hold, so the alert fires at once; anything else it turns to (healthy, unknown, removed)
 * resolves it.
 */
import { alertTitle } from "../describe.ts";
import type { EventRuleKind } from "./kind.ts";

/** The health_check kind. */
export const healthCheck: EventRuleKind = {
  healthChange(c, rule, host, ch) {
    const subject = `${host.id}/${ch.container_id}/${ch.check_id}`;
    if (ch.to !== "unhealthy") {
      const s = c.existing(rule, subject);
      if (s) c.resolve(s);
      return;
    }
    const s = c.subject(rule, subject, host.id, ch.container_id);
    if (s.state === "firing") return;
    s.name = ch.container_name;
    const times = ch.retries === 1 ? "once" : `${ch.retries} times in a row`;
    c.fire(s, null, {
      hostName: host.name,
      containerName: ch.container_name,
      title: alertTitle(rule, host.name, ch.container_name, ch.check_name),
      detail: `Health check "${ch.check_name}" of ${ch.container_name} failed ${times}` +
        (ch.error ? `: ${ch.error}` : ""),
    });
  },
};
