import type { QuotaLine } from "../lib/quotas/service.ts";
import type { UsageStanding } from "../lib/quotas/watch.ts";
import { formatAmount, type Resource } from "../lib/quotas/resources.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Share of a limit used, 0–100 (null: unlimited or not measured). */
export function quotaPercent(l: QuotaLine): number | null {
  if (l.limit === null || l.used === null) return null;
  if (l.limit === 0) return l.used > 0 ? 100 : 0;
  return Math.min(100, Math.round((l.used / l.limit) * 100));
}

function tone(p: number | null): string {
  if (p === null) return "quota-none";
  return p >= 100 ? "quota-full" : p >= 90 ? "quota-error" : p >= 80 ? "quota-warn" : "quota-ok";
}

import { timeLeft } from "./time_left.ts";
export { timeLeft };

const LEVEL: Record<UsageStanding["level"], { text: string; tone: "warn" | "error" }> = {
  ok: { text: "", tone: "warn" },
  warning: { text: "80 % reached", tone: "warn" },
  critical: { text: "90 % reached", tone: "error" },
  full: { text: "full", tone: "error" },
  over: { text: "over the limit", tone: "error" },
};

/**
 * The level the 30 s job last stored for a resource (lib/quotas/watch.ts), since when, and a
 * violation's grace period: the time left, or that deploys are blocked.
 */
function Standing({ s, now }: { s: UsageStanding; now: number }) {
  if (s.level === "ok") return null;
  const l = LEVEL[s.level];
  return (
    <p class="hint quota-level" data-level={s.level}>
      <Badge tone={l.tone}>{l.text}</Badge> since <Time ms={s.since} />
      {s.level === "over" && s.grace_ends_at !== null && (
        now < s.grace_ends_at
          ? (
            <span class="quota-grace">
              {` · grace period: ${timeLeft(s.grace_ends_at, now)} left, then new deploys are `}
              blocked (<Time ms={s.grace_ends_at} />)
            </span>
          )
          : (
            <span class="quota-grace">
              {" · grace period ended "}
              <Time ms={s.grace_ends_at} />: new deploys are blocked until the use fits the limit
            </span>
          )
      )}
    </p>
  );
}

/**
 * An organization's quotas as bars, one per resource: use against the limit in force and where
 * the limit comes from. Plain HTML and CSS (no script), one column on a phone.
 */
export function QuotaBars({ lines, standings = {}, now = Date.now() }: {
  lines: QuotaLine[];
  /** What the 30 s job last stored per resource (levels, a violation's grace period). */
  standings?: Partial<Record<Resource, UsageStanding>>;
  now?: number;
}) {
  return (
    <ul class="quota-bars">
      {lines.map((l) => {
        const p = quotaPercent(l);
        return (
          <li class={`card quota ${tone(p)}`} data-quota={l.resource} key={l.resource}>
            <div class="quota-head">
              <span class="quota-label">{l.label}</span>
              <span class="quota-figure">
                {l.used === null ? "not measured yet" : formatAmount(l.resource, l.used)}
                {" of "}
                {l.limit === null ? "unlimited" : formatAmount(l.resource, l.limit)}
                {p !== null && ` (${p} %)`}
              </span>
            </div>
            <div
              class="quota-track"
              role="meter"
              aria-label={l.label}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={p ?? 0}
            >
              <span class="quota-fill" style={`width:${p ?? 0}%`} />
            </div>
            <p class="hint">
              {l.source === "override"
                ? (
                  <>
                    <Badge tone="accent">override</Badge> {l.override?.reason}
                    {l.override?.expires_at && (
                      <>
                        {" "}· until <Time ms={l.override.expires_at} />
                      </>
                    )}
                  </>
                )
                : l.source === "default"
                ? "Install default"
                : "No limit set"}
              {l.override?.expired && " · an override expired; the default applies again"}
            </p>
            {standings[l.resource] && <Standing s={standings[l.resource]!} now={now} />}
          </li>
        );
      })}
    </ul>
  );
}
