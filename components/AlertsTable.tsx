import type { AlertRow } from "../lib/alerts/history.ts";
import { formatValue } from "../lib/alerts/describe.ts";
import { formatDuration } from "../lib/alerts/channels/message.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Silence choices of the per-alert form, in minutes. */
export const SILENCE_CHOICES = [
  { value: "60", label: "1 hour" },
  { value: "240", label: "4 hours" },
  { value: "1440", label: "1 day" },
  { value: "10080", label: "1 week" },
];

/** Links and permissions the table needs from its page. */
export interface AlertsTableProps {
  rows: AlertRow[];
  now: number;
  /** Series name per rule id, to show values in their unit. */
  metricOf: Record<string, string | null>;
  hostHref: (hostId: string) => string;
  /** `…/notifications`; actions post to `<base>/<id>/acknowledge|silence`. Null hides actions. */
  actionBase: string | null;
  /** Where the actions come back to (this page with its filters). */
  back: string;
}

function StateBadge({ a, now }: { a: AlertRow; now: number }) {
  const silenced = a.silenced_until !== null && Number(a.silenced_until) > now;
  return (
    <span class="alert-states">
      <Badge tone={a.state === "firing" ? "error" : "ok"}>{a.state}</Badge>
      {a.acknowledged_at !== null && <Badge tone="neutral">acknowledged</Badge>}
      {silenced && <Badge tone="neutral">silenced</Badge>}
      {a.muted === 1 && <Badge tone="neutral">muted</Badge>}
    </span>
  );
}

function Actions(
  { a, base, back, now }: { a: AlertRow; base: string; back: string; now: number },
) {
  const path = `${base}/${encodeURIComponent(a.id)}`;
  const silenced = a.silenced_until !== null && Number(a.silenced_until) > now;
  return (
    <div class="row-actions alert-actions">
      {a.acknowledged_at === null && (
        <form method="post" action={`${path}/acknowledge`}>
          <input type="hidden" name="back" value={back} />
          <button class="btn btn-small" type="submit" aria-label={`Acknowledge ${a.title}`}>
            Acknowledge
          </button>
        </form>
      )}
      {a.state === "firing" && (
        <form method="post" action={`${path}/silence`} class="silence-form">
          <input type="hidden" name="back" value={back} />
          <label class="visually-hidden" for={`silence-${a.id}`}>Silence {a.title} for</label>
          <select id={`silence-${a.id}`} name="minutes">
            {SILENCE_CHOICES.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </select>
          <button class="btn btn-small" type="submit">{silenced ? "Extend" : "Silence"}</button>
        </form>
      )}
    </div>
  );
}

/**
 * Alerts, newest first: state and severity, subject, value, when and for how long, and the user's
 * actions. Few enough columns to fit a desktop with the actions in full; cards on phones.
 */
export function AlertsTable(p: AlertsTableProps) {
  return (
    <div class="table-wrap">
      <table class="alerts-table table-cards">
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">State</th>
            <th scope="col">Host / container</th>
            <th scope="col" class="num">Value</th>
            <th scope="col">Started</th>
            {p.actionBase && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((a) => {
            const started = Number(a.started_at);
            const ended = a.ended_at === null ? null : Number(a.ended_at);
            const metric = a.rule_id ? p.metricOf[a.rule_id] ?? null : null;
            const duration = formatDuration((ended ?? p.now) - started);
            return (
              <tr key={a.id} data-alert={a.id} data-state={a.state}>
                <td class="cell-alert card-title">
                  <span class="alert-title">{a.title}</span>
                  <span class="small muted">{a.rule_name}</span>
                </td>
                <td class="cell-state" data-label="State">
                  <span class="alert-states">
                    <StateBadge a={a} now={p.now} />
                    <Badge tone={a.severity === "critical" ? "error" : "warn"}>{a.severity}</Badge>
                  </span>
                </td>
                <td data-label="Host">
                  <span>
                    {a.host_id
                      ? <a href={p.hostHref(a.host_id)}>{a.host_name ?? a.host_id}</a>
                      : <span class="muted">—</span>}
                    {a.container_name && <span class="small muted">/ {a.container_name}</span>}
                  </span>
                </td>
                <td class="num nowrap" data-label="Value">
                  {formatValue(metric, a.value === null ? null : Number(a.value))}
                </td>
                <td class="cell-when" data-label="Started">
                  <span>
                    <Time ms={started} />
                    <span class="small muted">
                      {ended === null ? <>{duration} so far</> : (
                        <>
                          lasted {duration}, ended <Time ms={ended} />
                        </>
                      )}
                    </span>
                  </span>
                </td>
                {p.actionBase && (
                  <td class="actions-cell">
                    <Actions a={a} base={p.actionBase} back={p.back} now={p.now} />
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
