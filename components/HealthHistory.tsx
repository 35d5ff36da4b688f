import { Time } from "./Time.tsx";
import { Badge } from "./Badge.tsx";
import { formatMs } from "./HealthBadge.tsx";

/** One stored result (the API's history item). */
export interface HistoryItem {
  at: number;
  ok: boolean;
  response_ms: number | null;
  status_code: number | null;
  exit_code: number | null;
  error: string | null;
  output: string | null;
  /** The output is the first 4 KB of a longer one. */
  output_truncated?: boolean;
}

/** A check's results, newest first; errors and command output shown in full. */
export function HealthHistory({ items }: { items: HistoryItem[] }) {
  return (
    <div class="table-wrap">
      <table class="health-history">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Result</th>
            <th scope="col" class="num">Response</th>
            <th scope="col">Error / output</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r, i) => (
            <tr key={`${r.at}-${i}`} data-ok={r.ok ? "1" : "0"}>
              <td class="nowrap">
                <Time ms={r.at} seconds />
              </td>
              <td class="nowrap">
                <Badge tone={r.ok ? "ok" : "error"}>{r.ok ? "ok" : "failed"}</Badge>{" "}
                {r.status_code !== null
                  ? `HTTP ${r.status_code}`
                  : r.exit_code !== null
                  ? `exit ${r.exit_code}`
                  : ""}
              </td>
              <td class="num nowrap">{formatMs(r.response_ms)}</td>
              <td class="cell-error">
                {r.error && <span class="error-text">{r.error}</span>}
                {r.output && (
                  <details>
                    <summary>
                      Output{r.output_truncated && (
                        <span class="muted" data-truncated>
                          {" "}(first 4 KB; the rest was cut)
                        </span>
                      )}
                    </summary>
                    <pre class="mono small">{r.output}</pre>
                  </details>
                )}
                {!r.error && !r.output && <span class="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
