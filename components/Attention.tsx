import type { AlertRow } from "../lib/alerts/history.ts";
import type { HealthCheckView } from "../lib/health/rows.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";
import { plural } from "./plural.ts";

/** What the dashboard shows first: a few of each, with the total and a link to all of them. */
export interface AttentionProps {
  /** `/o/<slug>`. */
  base: string;
  alerts: AlertRow[];
  /** Firing alerts in all; a string such as "50+" when capped. */
  alertsTotal: number | string;
  checks: HealthCheckView[];
  checksTotal: number;
}

/**
 * The top of the dashboard: firing alerts and failing health checks, or a plain sentence saying
 * nothing is wrong, so a problem is the first thing a returning user sees.
 */
export function Attention({ base, alerts, alertsTotal, checks, checksTotal }: AttentionProps) {
  if (alerts.length === 0 && checks.length === 0) {
    return (
      <section class="attention attention-ok" aria-label="Needs attention">
        <p>
          <strong>Nothing needs attention:</strong>{" "}
          no alert is firing and no health check is failing.
        </p>
      </section>
    );
  }
  return (
    <section class="attention card" aria-labelledby="attention-title">
      <h2 id="attention-title">Needs attention</h2>
      <div class="attention-lists">
        {alerts.length > 0 && (
          <div>
            <h3>
              {typeof alertsTotal === "number"
                ? plural(alertsTotal, "firing alert")
                : `${alertsTotal} firing alerts`}
            </h3>
            <ul class="plain attention-list">
              {alerts.map((a) => (
                <li key={a.id}>
                  <Badge tone={a.severity === "critical" ? "error" : "warn"}>{a.severity}</Badge>
                  <span>
                    <a
                      href={`${base}/notifications?state=firing${
                        a.host_id ? `&host=${encodeURIComponent(a.host_id)}` : ""
                      }`}
                    >
                      {a.title}
                    </a>
                    <span class="small muted">
                      since <Time ms={Number(a.started_at)} />
                      {a.acknowledged_at !== null && " · acknowledged"}
                    </span>
                  </span>
                </li>
              ))}
            </ul>
            <a class="small" href={`${base}/notifications?state=firing`}>All firing alerts →</a>
          </div>
        )}
        {checks.length > 0 && (
          <div>
            <h3>{plural(checksTotal, "failing health check")}</h3>
            <ul class="plain attention-list">
              {checks.map((c) => (
                <li key={c.id}>
                  <Badge tone="error">unhealthy</Badge>
                  <span>
                    <a href={`${base}/health/${encodeURIComponent(c.id)}`}>{c.name}</a>
                    <span class="small muted">
                      {c.container_name} on {c.host_name} · since <Time ms={c.state_since} />
                    </span>
                  </span>
                </li>
              ))}
            </ul>
            <a class="small" href={`${base}/health?state=unhealthy`}>All failing checks →</a>
          </div>
        )}
      </div>
    </section>
  );
}
