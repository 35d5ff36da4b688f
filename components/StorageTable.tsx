import type { StorageReport } from "../lib/metrics/views.ts";
import { bytes } from "./format.ts";
import { EmptyState } from "./EmptyState.tsx";

const count = (n: number) => n.toLocaleString("en-US");

/** Metric rows per host and tier with the estimated size, largest first, and the fleet total. */
export function StorageTable(
  { report, hostHref }: { report: StorageReport; hostHref: (id: string) => string },
) {
  const db = report.dialect === "sqlite" ? "SQLite" : "PostgreSQL";
  return (
    <section class="card" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage used per host</h2>
      {report.hosts.length === 0
        ? (
          <EmptyState title="Nothing stored yet">
            <p>Hosts start storing metrics as soon as their agent reports (every 10 s).</p>
          </EmptyState>
        )
        : (
          <div class="table-wrap">
            <table class="storage-table">
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col" class="num">Series</th>
                  <th scope="col" class="num">Raw samples</th>
                  <th scope="col" class="num">1-minute rows</th>
                  <th scope="col" class="num">1-hour rows</th>
                  <th scope="col" class="num">Estimated size</th>
                </tr>
              </thead>
              <tbody>
                {report.hosts.map((h) => (
                  <tr key={h.host_id} data-host={h.host_id}>
                    <th scope="row">
                      {h.removed ? h.name : <a href={hostHref(h.host_id)}>{h.name}</a>}
                      {h.removed && <span class="cell-kind">removed, history kept</span>}
                    </th>
                    <td class="num">{count(h.series)}</td>
                    <td class="num" data-tier="raw">{count(h.raw_rows)}</td>
                    <td class="num" data-tier="1m">{count(h.minute_rows)}</td>
                    <td class="num" data-tier="1h">{count(h.hour_rows)}</td>
                    <td class="num nowrap">{bytes(h.estimated_bytes)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">All hosts</th>
                  <td class="num">{count(report.total.series)}</td>
                  <td class="num">{count(report.total.raw_rows)}</td>
                  <td class="num">{count(report.total.minute_rows)}</td>
                  <td class="num">{count(report.total.hour_rows)}</td>
                  <td class="num nowrap" data-total-bytes={report.total.estimated_bytes}>
                    {bytes(report.total.estimated_bytes)}
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
        )}
      {report.conversion && report.conversion.finished_at === null &&
        report.conversion.total_rows > 0 && (
        <p class="notice" role="status" data-conversion>
          Converting raw samples stored before this version into compressed chunks:{" "}
          {count(report.conversion.converted_rows)} of {count(report.conversion.total_rows)}{" "}
          ({Math.floor(report.conversion.converted_rows / report.conversion.total_rows * 100)}{" "}
          %). Charts show every sample meanwhile.
        </p>
      )}
      <p class="muted small footnote">
        Counts are exact; sizes are estimates for{" "}
        {db}. Raw samples are stored compressed, many to a row: about {report.row_bytes.raw}{" "}
        bytes each on a typical host (this install's figure is what the table adds up from the
        stored chunks); rollup rows take about {report.row_bytes.rollup}{" "}
        bytes plus their histogram, data and index together. Free pages, vacuum state and other
        organizations sharing the database are not included.
      </p>
    </section>
  );
}
