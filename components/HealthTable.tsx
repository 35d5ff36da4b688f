import type { Uptime } from "../lib/health/service.ts";
import type { HealthCheckView } from "../lib/health/rows.ts";
import { Sparkline } from "./Sparkline.tsx";
import {
  formatMs,
  HealthBadge,
  KIND_LABELS,
  lastResultText,
  targetText,
  UptimeCells,
} from "./HealthBadge.tsx";
import { Badge } from "./Badge.tsx";

/** A list row: the check, its uptime and its recent response times (per minute, oldest first). */
export interface HealthRow {
  check: HealthCheckView;
  uptime: Uptime;
  recent: (number | null)[];
}

/** Largest value of a sparkline, rounded up a little so the line never touches the top. */
function sparkMax(values: (number | null)[]): number {
  const m = Math.max(0, ...values.filter((v): v is number => v !== null));
  return m > 0 ? m * 1.15 : 1;
}

/** The health page's table of checks; `base` is `/o/<slug>`. */
export function HealthTable({ rows, base }: { rows: HealthRow[]; base: string }) {
  return (
    <div class="table-wrap">
      <table class="health-table">
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Container</th>
            <th scope="col">State</th>
            <th scope="col">Last result</th>
            <th scope="col">Response time</th>
            <th scope="col">
              Uptime <span class="th-sub">24 h · 7 d · 30 d</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ check: c, uptime, recent }) => (
            <tr key={c.id} data-check={c.id}>
              <td class="cell-check">
                <a href={`${base}/health/${c.id}`}>{c.name}</a>
                {c.source === "label" && (
                  <>
                    {" "}
                    <Badge tone="accent">label</Badge>
                  </>
                )}
                <span class="muted small block">
                  {KIND_LABELS[c.kind]} · <code>{targetText(c)}</code>
                </span>
              </td>
              <td class="cell-container">
                {c.container_gone_at === null
                  ? (
                    <a href={`${base}/containers/${c.host_id}/${c.container_id}`}>
                      {c.container_name}
                    </a>
                  )
                  : c.container_name}
                <span class="muted small block">
                  {c.container_gone_at === null ? "on" : "removed from"} {c.host_name}
                </span>
              </td>
              <td>
                <HealthBadge
                  id={c.id}
                  state={c.state}
                  enabled={c.enabled}
                  gone={c.container_gone_at !== null}
                />
              </td>
              <td class={c.last && !c.last.ok ? "error-text cell-last" : "cell-last"}>
                {lastResultText(c.last)}
              </td>
              <td class="cell-response">
                <span
                  class={c.last && !c.last.ok ? "error-text" : undefined}
                  data-check-ms={c.id}
                >
                  {formatMs(c.last?.response_ms)}
                </span>
                <Sparkline
                  series={[{ values: recent, class: "spark-health" }]}
                  slots={recent.length}
                  max={sparkMax(recent)}
                  label={`Response times of ${c.name}, last ${recent.length} minutes`}
                />
              </td>
              <td class="nowrap">
                <UptimeCells uptime={uptime} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
