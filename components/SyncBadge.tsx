/**
 * A volume's sync indicator: synced / pending / none / failed, with the time of its last snapshot
 * when there is one. The storage pages, the storage cards of containers and apps, and the rows of
 * the containers list show it.
 */
import type { SnapshotVolume } from "../lib/snapshots/store.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

const SYNC: Record<
  SnapshotVolume["sync_state"],
  { tone: "ok" | "warn" | "error" | "neutral"; label: string }
> = {
  synced: { tone: "ok", label: "synced" },
  pending: { tone: "warn", label: "pending" },
  failed: { tone: "error", label: "failed" },
  none: { tone: "neutral", label: "none" },
};

/** synced / pending / none / failed, with the time of the last snapshot when there is one. */
export function SyncBadge(
  { state, at, error }: {
    state: SnapshotVolume["sync_state"];
    at?: number | null;
    error?: string | null;
  },
) {
  const s = SYNC[state];
  return (
    <span class="sync" data-sync={state} title={error ?? undefined}>
      <Badge tone={s.tone}>{s.label}</Badge>
      {at
        ? (
          <span class="muted small">
            <Time ms={at} />
          </span>
        )
        : null}
    </span>
  );
}
