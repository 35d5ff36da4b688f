/**
 * certificate: a route's hostname has a certificate that expires within 14 days, or none could be
 * had (the proxy module reads what the ingress serves for each hostname and says when its state
 * changes). It fires while the certificate is expiring or failed and resolves when it is active
 * again (renewed) or the hostname no longer needs one from a CA.
 */
import type { EventRuleKind } from "./kind.ts";

const DAY_MS = 24 * 3600_000;

/** The certificate kind. */
export const certificate: EventRuleKind = {
  certificateChange(c, rule, ch) {
    const subject = `cert:${ch.hostname}`;
    if (ch.state !== "expiring" && ch.state !== "failed") {
      const s = c.existing(rule, subject);
      if (s) c.resolve(s);
      return;
    }
    const s = c.subject(rule, subject, "");
    if (s.state === "firing") return;
    s.name = ch.hostname;
    const days = ch.not_after === null
      ? null
      : Math.max(0, Math.floor((ch.not_after - c.now) / DAY_MS));
    c.fire(s, days, {
      hostName: ch.hostname,
      containerName: null,
      title: ch.state === "expiring"
        ? `Certificate of ${ch.hostname} expires in ${days} day${days === 1 ? "" : "s"}`
        : `No certificate for ${ch.hostname}`,
      detail: ch.state === "expiring"
        ? `The certificate served for ${ch.hostname} ends ${
          new Date(ch.not_after!).toISOString()
        }` +
          " and has not been renewed yet"
        : `The ingress serves no certificate from the CA for ${ch.hostname}` +
          (ch.detail ? `: ${ch.detail}` : ""),
    });
  },
};
