/**
 * quota_usage: an organization's use of a quota resource crossed a level — 80 % (warning), 90 %
 * (critical), 100 % (full: new deploys of it are refused), above the limit (a violation: its grace
 * period starts) — or came back below one (with hysteresis), or a violation's grace period ended
 * and deploys are blocked. lib/quotas/watch.ts makes each change exactly once and tells it on the
 * bus (`quotas.usage`); each is one instant notice through the org's channels.
 *
 * A notice has a severity: critical when it involves critical, full or over (either side of the
 * change) or a block, else warning. A rule hears the notices of its own severity — so the default
 * rules are one of each, "Quota at 80 %" (warning) and "Quota at 90 %, full or exceeded"
 * (critical).
 *
 * One subject per resource and level reached (bounded: 7 × 6); its value is when the change was
 * made, so the same change heard again is not told twice, and the next crossing is.
 */
import type { EventRuleKind, QuotaNotice } from "./kind.ts";
import { formatAmount, RESOURCE_INFO } from "../../quotas/resources.ts";

const at = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

const CRITICAL = new Set(["critical", "full", "over"]);

/** The severity of the rules that hear a notice. */
export function quotaSeverity(n: QuotaNotice): "warning" | "critical" {
  return n.change !== "level" || CRITICAL.has(n.from) || CRITICAL.has(n.to)
    ? "critical"
    : "warning";
}

const LEVEL_TEXT = {
  ok: "back under 75 %",
  warning: "at 80 %",
  critical: "at 90 %",
  full: "full",
  over: "exceeded",
} as const;

/** The title and detail of a notice. */
export function quotaMessage(n: QuotaNotice): { title: string; detail: string } {
  const info = RESOURCE_INFO[n.resource];
  const figure = `${formatAmount(n.resource, n.used)} of ${
    n.limit === null ? "unlimited" : formatAmount(n.resource, n.limit)
  }${n.pct === null ? "" : ` (${n.pct} %)`}`;
  if (n.change === "apps_stopped") {
    return {
      title: `Quota exceeded: apps stopped (${info.label})`,
      detail: `${info.label}: ${figure} since ${at(n.since)}; the grace period ended. ` +
        `Stopped, lowest priority first: ${(n.apps ?? []).join(", ")}.`,
    };
  }
  if (n.change === "blocked") {
    return {
      title: `Quota exceeded: new deploys blocked (${info.label})`,
      detail: `${info.label}: ${figure} since ${at(n.since)}; the grace period ended. ` +
        "New deploys are blocked until the use fits the limit again.",
    };
  }
  if (n.limit === null) {
    return {
      title: `Quota removed: ${info.label}`,
      detail: `${info.label} is no longer limited (${formatAmount(n.resource, n.used)} used).`,
    };
  }
  if (n.to === "over") {
    return {
      title: `Quota exceeded: ${info.label}`,
      detail: `${info.label}: ${figure}. New deploys are blocked at ${
        at(n.grace_ends_at ?? n.since)
      } unless the use fits the limit again.`,
    };
  }
  const up = ["ok", "warning", "critical", "full", "over"].indexOf(n.to) >
    ["ok", "warning", "critical", "full", "over"].indexOf(n.from);
  const text = n.to === "ok"
    ? LEVEL_TEXT.ok
    : up
    ? LEVEL_TEXT[n.to]
    : `back under ${n.to === "warning" ? 85 : n.to === "critical" ? 95 : 100} %`;
  return {
    title: `Quota ${text}: ${info.label}`,
    detail: `${info.label}: ${figure}.` +
      (n.to === "full" ? " New deploys that add to it are refused." : "") +
      (n.from === "over" ? " The violation ended; deploys are no longer blocked by it." : ""),
  };
}

/** The quota_usage kind. */
export const quotaUsage: EventRuleKind = {
  quotaUsage(c, rule, n) {
    if (rule.spec.severity !== quotaSeverity(n)) return;
    const s = c.subject(
      rule,
      `quota/${n.resource}/${n.change === "level" ? n.to : n.change}`,
      "",
    );
    // A stop pass is told by when it stopped (a violation may need more than one).
    const when = n.change === "apps_stopped" ? n.at ?? n.since : n.since;
    if (s.value !== null && s.value >= when) return;
    s.value = when;
    c.instant(s, when, { hostName: null, containerName: null, ...quotaMessage(n) });
  },
};
