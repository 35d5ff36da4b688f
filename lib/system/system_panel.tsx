import { Fragment } from "preact";
import type { Config } from "../config.ts";

/**
 * Settings → System: where the hub keeps its data, which database, how long each kind of data is
 * kept (each set by its environment variable), and telemetry — there is none.
 */
export function SystemPanel(
  { config, dialect, platformAdmin }: { config: Config; dialect: string; platformAdmin: boolean },
) {
  const r = config.metricsRetention;
  const rows: [string, string, string][] = [
    ["Database", dialect === "postgres" ? "PostgreSQL" : "SQLite (embedded)", "DATABASE_URL"],
    ...(platformAdmin
      ? [["Data directory", config.dataDir, "CAPSTAN_DATA_DIR"] as [string, string, string]]
      : []),
    ["Raw metric samples", `${r.rawHours} hours`, "CAPSTAN_METRICS_RAW_HOURS"],
    ["Minute rollups", `${r.minuteDays} days`, "CAPSTAN_METRICS_MINUTE_DAYS"],
    ["Hour rollups", `${r.hourDays} days`, "CAPSTAN_METRICS_HOUR_DAYS"],
    ["Audit log", `${config.auditRetentionDays} days`, "CAPSTAN_AUDIT_RETENTION_DAYS"],
    ["Resolved alerts", `${config.alertsRetentionDays} days`, "CAPSTAN_ALERTS_RETENTION_DAYS"],
    ["Health check results", `${config.healthRetentionDays} days`, "CAPSTAN_HEALTH_RETENTION_DAYS"],
  ];
  return (
    <section class="card" aria-labelledby="system-title">
      <h2 id="system-title">System</h2>
      <dl class="props">
        {rows.map(([k, v, env]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>
              {v}{" "}
              <span class="muted small">
                (<code>{env}</code>)
              </span>
            </dd>
          </Fragment>
        ))}
        <dt>Telemetry</dt>
        <dd>Off. Capstan sends nothing anywhere; there is no telemetry to turn on.</dd>
      </dl>
      <p class="muted small">
        These are set by environment variables when the hub starts (README, Configuration).
      </p>
    </section>
  );
}
