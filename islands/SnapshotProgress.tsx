// A running snapshot or restore, kept current from its realtime topic: a progress bar with the
// bytes so far, the total and the rate while restic runs on the host, then the outcome. When it
// ends the island offers the page again (its tables then hold the finished record). Without JS the
// page shows the state as of its rendering, with a refresh link.
import { useSignal } from "@preact/signals";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import type { Topic } from "../lib/realtime/topics.ts";
import type { SnapshotProgressEvent } from "../lib/snapshots/topics.ts";
import { bytes } from "../components/format.ts";
import { Alert } from "../components/Alert.tsx";

/** Props of the SnapshotProgress island (JSON-serialisable). */
export interface SnapshotProgressProps {
  /** `snapshotTopic(orgId, id)` or `restoreTopic(orgId, id)`. */
  topic: Topic<SnapshotProgressEvent>;
  /** "Snapshot" or "Restore", for the words. */
  what: string;
  /** The page to read again once it ends. */
  refreshHref: string;
  status: "running" | "complete" | "failed";
  bytes_done: number;
  total_bytes: number;
  error: string | null;
}

/** "1.2 GiB of 4.0 GiB · 85 MiB/s". */
export function progressWords(done: number, total: number, rate: number): string {
  const of = total > 0 ? `${bytes(done)} of ${bytes(total)}` : bytes(done);
  return rate > 0 ? `${of} · ${bytes(rate)}/s` : of;
}

export default function SnapshotProgress(p: SnapshotProgressProps) {
  const status = useSignal(p.status);
  const done = useSignal(p.bytes_done);
  const total = useSignal(p.total_bytes);
  const rate = useSignal(0);
  const phase = useSignal<string | undefined>(undefined);
  const error = useSignal(p.error);

  const live = useLiveTopic<SnapshotProgressEvent>([p.topic], (_t, e) => {
    if (!e) return;
    if (e.kind === "progress") {
      done.value = e.bytes_done;
      total.value = e.total_bytes;
      rate.value = e.rate;
      phase.value = e.phase;
    } else {
      status.value = e.status;
      error.value = e.error ?? null;
      if (e.status === "complete") done.value = Math.max(done.value, total.value);
    }
  });

  const percent = total.value > 0 ? Math.min(100, Math.round(100 * done.value / total.value)) : 0;
  const running = status.value === "running";
  return (
    <div class="snapshot-progress" data-status={status.value} aria-live="polite">
      {running
        ? (
          <>
            <div class="section-head">
              <strong>
                {p.what} running{phase.value === "upload" ? ": uploading" : ""}…
              </strong>
              <LiveMarker state={live.value} labels={LIVE_LABELS} />
            </div>
            <progress max={100} value={total.value > 0 ? percent : undefined}>
              {percent}%
            </progress>
            <div class="muted small" data-progress-bytes>
              {total.value > 0 ? `${percent}% · ` : ""}
              {progressWords(done.value, total.value, rate.value)}
            </div>
          </>
        )
        : status.value === "complete"
        ? <Alert kind="ok">{p.what} complete.</Alert>
        : <Alert kind="error">{p.what} failed: {error.value ?? "unknown error"}</Alert>}
      <a class="btn btn-small btn-ghost" href={p.refreshHref}>Refresh</a>
    </div>
  );
}
