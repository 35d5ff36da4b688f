/**
 * host_offline: a host's agent is not connected here and the host has not been heard of (report,
 * contact, enrolment) for the rule's hold. Checked by the periodic tick; resolves when the host
 * reports or reconnects, or is removed. While it fires, the host's containers' alerts are muted
 * (engine/cache.ts `hostDown`).
 */
import { ruleCoversHost } from "../compile.ts";
import { alertTitle, firingDetail } from "../describe.ts";
import type { EventRuleKind } from "./kind.ts";

/** The host_offline kind. */
export const hostOffline: EventRuleKind = {
  tickHosts(c, rules, hosts) {
    const live = new Set(hosts.map((h) => h.host.id));
    for (const { host, lastHeard, connected } of hosts) {
      for (const rule of rules) {
        if (!ruleCoversHost(rule, host)) continue;
        const s = c.subject(rule, host.id, host.id);
        const down = !connected && c.now - lastHeard >= rule.holdMs;
        if (down && s.state !== "firing") {
          const silentS = Math.round((c.now - lastHeard) / 1000);
          c.fire(s, silentS, {
            hostName: host.name,
            containerName: null,
            title: alertTitle(rule, host.name, null, ""),
            detail: firingDetail(rule, { value: silentS }),
          });
        } else if (!down && s.state === "firing") c.resolve(s);
      }
    }
    // A removed host is not coming back: end its offline alert.
    c.each((s, rule) => {
      if (rule.spec.event === "host_offline" && s.state === "firing" && !live.has(s.hostId)) {
        c.resolve(s);
      }
    });
  },

  hostBack(c, rule, hostId) {
    const s = c.existing(rule, hostId);
    if (s?.state === "firing") c.resolve(s);
  },
};
