import type { QuotaLine } from "../lib/quotas/service.ts";
import { formatAmount } from "../lib/quotas/resources.ts";
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

/**
 * An organization's quotas as bars, one per resource: use against the limit in force and where
 * the limit comes from. Plain HTML and CSS (no script), one column on a phone.
 */
export function QuotaBars({ lines }: { lines: QuotaLine[] }) {
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
          </li>
        );
      })}
    </ul>
  );
}
