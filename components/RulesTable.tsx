import type { RuleView } from "../lib/alerts/rules.ts";
import { formatValue } from "../lib/alerts/describe.ts";
import { formatDuration } from "../lib/alerts/channels/message.ts";
import { Badge } from "./Badge.tsx";

/** What a rule watches and when it fires, in one line. */
export function ruleCondition(r: RuleView): string {
  if (r.kind === "event") {
    switch (r.event) {
      case "restart_loop":
        return `restart loop: ${r.event_count} restarts in ${
          formatDuration((r.event_window_s ?? 0) * 1000)
        }`;
      case "host_offline":
        return `host offline for ${formatDuration(r.hold_s * 1000)}`;
      case "data_root_size":
        return `Docker data-root > ${formatValue("x_bytes", r.trigger)}`;
      default:
        return String(r.event).replaceAll("_", " ");
    }
  }
  const v = (x: number | null) => formatValue(r.metric, x);
  const how = r.mode === "avg"
    ? ` (average over ${formatDuration(r.window_s * 1000)})`
    : r.hold_s
    ? ` for ${formatDuration(r.hold_s * 1000)}`
    : "";
  const clear = r.clear !== null && r.clear !== r.trigger ? `, clears at ${v(r.clear)}` : "";
  return `${r.container ? "each container's " : ""}${r.metric} ${r.op} ${
    v(r.trigger)
  }${how}${clear}`;
}

/** Where a rule applies, in words. */
function scopeText(r: RuleView, hostName: (id: string) => string): string {
  if (r.scope === "org") return "All hosts";
  if (r.scope === "host") return hostName(r.scope_value ?? "");
  return `Label ${r.scope_value}`;
}

/** The alert rules of an organization; admins get edit, enable/disable and delete. */
export function RulesTable(
  { rules, base, canEdit, hostName }: {
    rules: RuleView[];
    base: string;
    canEdit: boolean;
    hostName: (id: string) => string;
  },
) {
  return (
    <div class="table-wrap">
      <table class="table-cards rules-table">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Condition</th>
            <th scope="col">Applies to</th>
            <th scope="col">Severity</th>
            <th scope="col">State</th>
            {canEdit && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => {
            const path = `${base}/${encodeURIComponent(r.id)}`;
            return (
              <tr key={r.id} data-rule={r.id}>
                <th class="card-title" scope="row">
                  {canEdit ? <a href={`${path}/edit`}>{r.name}</a> : r.name}
                  <span class="small muted">{r.kind}</span>
                </th>
                <td data-label="Condition">{ruleCondition(r)}</td>
                <td data-label="Applies to">{scopeText(r, hostName)}</td>
                <td data-label="Severity">
                  <Badge tone={r.severity === "critical" ? "error" : "warn"}>{r.severity}</Badge>
                </td>
                <td data-label="State">
                  <Badge tone={r.enabled ? "ok" : "neutral"}>
                    {r.enabled ? "enabled" : "disabled"}
                  </Badge>
                </td>
                {canEdit && (
                  <td class="actions-cell">
                    <div class="row-actions">
                      <a class="btn btn-small" href={`${path}/edit`}>Edit</a>
                      <form method="post" action={`${path}/enabled`}>
                        <input type="hidden" name="enabled" value={r.enabled ? "0" : "1"} />
                        <button class="btn btn-small" type="submit">
                          {r.enabled ? "Disable" : "Enable"}
                        </button>
                      </form>
                      <a class="btn btn-small btn-danger-ghost" href={`${path}/delete`}>Delete</a>
                    </div>
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
