/**
 * The metrics status lines of a host's page: "Metrics not reporting: <reason>", a clock that is
 * off, a spool that was reset, new series dropped at the host's series limit, and problems the
 * agent reports on its side. Nothing when all is well.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import type { HostDetail } from "../../../../lib/hosts/view.ts";
import type { IngestNote } from "../../../../lib/metrics/ingest_status.ts";
import { Alert } from "../../../../components/Alert.tsx";
import { Time } from "../../../../components/Time.tsx";

function Note({ note }: { note: IngestNote }) {
  switch (note.kind) {
    case "not_reporting":
      return (
        <Alert kind="warn">
          <strong>Metrics not reporting:</strong> {note.reason}.{" "}
          {note.lastStoredAt === null ? "Nothing has been stored for this host yet." : (
            <>
              Last samples stored <Time ms={note.lastStoredAt} seconds />.
            </>
          )}
        </Alert>
      );
    case "clock": {
      const s = Math.round(Math.abs(note.skewMs) / 1000);
      return (
        <Alert kind="warn">
          <strong>Clock off by {s} s:</strong> this host's clock is {s} s{" "}
          {note.skewMs > 0 ? "ahead of" : "behind"}{" "}
          the hub's. Samples dated more than 5 minutes ahead, or older than the raw retention, are
          refused{note.refused > 0 ? ` (${note.refused} so far)` : ""}. Sync it with NTP
          (systemd-timesyncd or chrony).
        </Alert>
      );
    }
    case "epoch":
      return (
        <Alert kind="info">
          <strong>Metrics restarted</strong>{" "}
          <Time ms={note.at} seconds />: the agent's spool was made anew (its directory removed or
          reinstalled), so batches it had not sent before then are lost; everything since is stored.
        </Alert>
      );
    case "series_cap":
      return (
        <Alert kind="warn">
          <strong>{note.series.toLocaleString("en-US")} new series dropped:</strong>{" "}
          this host reached its limit of {note.limit.toLocaleString("en-US")}{" "}
          series with recent samples, so the samples of new series (containers started since) are
          not stored ({note.samples.toLocaleString("en-US")} so far, the last{" "}
          <Time ms={note.at} seconds />); its existing series keep being stored. Series of removed
          containers are deleted once their data has expired; CAPSTAN_METRICS_MAX_SERIES_PER_HOST
          raises the limit.
        </Alert>
      );
    case "problem":
      return (
        <Alert kind="warn">
          <strong>Metrics at risk:</strong> {note.text}
          {note.lost > 0 ? `; ${note.lost} samples lost so far` : ""}.
        </Alert>
      );
  }
}

/** Loads and renders the host's metrics status lines. */
export async function hostIngestStatus(c: AppContext, host: HostDetail) {
  const notes = await c.var.services.metrics.notes(host, host.status === "online");
  if (!notes.length) return null;
  return (
    <div class="metrics-status" id="metrics-status">
      {notes.map((n) => <Note key={n.kind} note={n} />)}
    </div>
  );
}
