import type { AlertRow } from "../lib/alerts/history.ts";
import { AlertsTable, type AlertsTableProps } from "./AlertsTable.tsx";

/** The host page's alert history: its recent alerts and a link to all of them, filtered. */
export function HostAlerts(
  { allHref, ...table }: AlertsTableProps & { rows: AlertRow[]; allHref: string },
) {
  return (
    <section class="host-alerts" aria-labelledby="host-alerts-title">
      <div class="section-head">
        <h2 id="host-alerts-title">Alerts</h2>
        <a href={allHref}>All alerts of this host →</a>
      </div>
      {table.rows.length
        ? <AlertsTable {...table} />
        : <p class="muted card">No alerts for this host yet.</p>}
    </section>
  );
}
