import type { AuditRow } from "../lib/audit/service.ts";
import { StatusBadge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

function Target({ row }: { row: AuditRow }) {
  if (!row.target_type) return <span class="muted">—</span>;
  return (
    <>
      <span class="cell-kind">{row.target_type}</span>
      {row.target_name ?? row.target_id}
    </>
  );
}

function Actor({ row }: { row: AuditRow }) {
  const name = row.actor_name ?? row.actor_id;
  return (
    <>
      {row.actor_type !== "user" && <span class="cell-kind">{row.actor_type}</span>}
      {name ?? <span class="muted">—</span>}
    </>
  );
}

function Details({ row }: { row: AuditRow }) {
  const keys = Object.keys(row.metadata);
  if (!row.error && keys.length === 0) return <span class="muted">—</span>;
  return (
    <details>
      <summary>
        {row.error ? "error" : `${keys.length} ${keys.length === 1 ? "field" : "fields"}`}
      </summary>
      {row.error && <p class="error-text">{row.error}</p>}
      {keys.length > 0 && <pre class="code">{JSON.stringify(row.metadata, null, 2)}</pre>}
    </details>
  );
}

/** Audit rows, newest first; metadata folded into a `<details>` per row. */
export function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <div class="table-wrap">
      <table class="audit-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col">IP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td class="nowrap">
                <Time ms={r.at} seconds />
              </td>
              <td>
                <Actor row={r} />
              </td>
              <td class="nowrap">
                <code>{r.action}</code>
              </td>
              <td>
                <Target row={r} />
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td class="num nowrap">{r.duration_ms} ms</td>
              <td class="nowrap">{r.ip ?? <span class="muted">—</span>}</td>
              <td>
                <Details row={r} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
