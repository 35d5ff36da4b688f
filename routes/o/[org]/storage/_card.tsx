/**
 * The storage card of the container and app pages: each named volume with its size, last
 * snapshot and sync state, "Create snapshot" (back to the page, which then follows the snapshot
 * live) and "Restore…" of the newest complete snapshot. Members act, viewers read.
 */
import { type AppContext, orgScopeOf } from "../../../../lib/http/context.ts";
import { island } from "../../../../lib/islands/island.tsx";
import type { VolumeCard } from "../../../../lib/snapshots/volume_cards.ts";
import { restoreTopic, snapshotTopic } from "../../../../lib/snapshots/topics.ts";
import SnapshotProgress from "../../../../islands/SnapshotProgress.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { bytes } from "../../../../components/format.ts";
import { abilities } from "../_docker.tsx";
import { SyncBadge, targetsHref, volumeHref } from "./_storage.tsx";

const SnapshotProgressIsland = island("SnapshotProgress", SnapshotProgress);

/** The query parameter naming the snapshot a page follows after "Create snapshot". */
export const FOLLOW_PARAM = "snapshot";

/** A volume the card shows, with its host's name when the card spans hosts. */
export interface CardVolume {
  host_id: string;
  host_name?: string;
  volume: string;
}

/**
 * The storage card of `volumes` on the page `self` (its path, where "Create snapshot" comes back
 * to); null when there is no volume. The snapshot named by `?snapshot=` is followed live.
 */
export async function storageCard(
  c: AppContext,
  volumes: CardVolume[],
  self: string,
): Promise<preact.JSX.Element | null> {
  if (!volumes.length) return null;
  const { org } = orgScopeOf(c);
  const { volumeCards, storageTargets } = c.var.services;
  const [cards, targets] = await Promise.all([
    volumeCards.cards(org.id, volumes, { follow: c.req.query(FOLLOW_PARAM) || undefined }),
    storageTargets.list(org.id),
  ]);
  const hostName = new Map(volumes.map((v) => [`${v.host_id}\0${v.volume}`, v.host_name]));
  return (
    <StorageCard
      c={c}
      cards={cards}
      hostNames={hostName}
      self={self}
      hasTarget={targets.length > 0}
    />
  );
}

function StorageCard(
  { c, cards, hostNames, self, hasTarget }: {
    c: AppContext;
    cards: VolumeCard[];
    hostNames: Map<string, string | undefined>;
    self: string;
    hasTarget: boolean;
  },
) {
  const { org } = orgScopeOf(c);
  const operate = abilities(c).operate;
  const showHost = [...hostNames.values()].some(Boolean);
  return (
    <section class="card storage-card" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      {!hasTarget && (
        <Alert kind="warn">
          No storage target yet: <a href={targetsHref(c)}>add one</a> to take snapshots.
        </Alert>
      )}
      {cards.flatMap((v) => {
        const run = v.restore ?? v.snapshot;
        if (!run) return [];
        const what = v.restore ? "Restore" : "Snapshot";
        return [
          <div key={`run-${v.host_id}-${v.volume}`} data-progress-of={v.volume}>
            <div class="small muted">{what} of {v.volume}</div>
            <SnapshotProgressIsland
              topic={v.restore ? restoreTopic(org.id, v.restore.id) : snapshotTopic(org.id, run.id)}
              what={what}
              refreshHref={self}
              status={run.status}
              bytes_done={run.progress_bytes ?? 0}
              total_bytes={run.progress_total ?? 0}
              error={run.error}
            />
          </div>,
        ];
      })}
      <div class="table-wrap">
        <table class="table-cards storage-card-table">
          <thead>
            <tr>
              <th scope="col">Volume</th>
              {showHost && <th scope="col">Host</th>}
              <th scope="col">Size</th>
              <th scope="col">Last snapshot</th>
              {operate && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {cards.map((v) => {
              const href = volumeHref(c, v.host_id, v.volume);
              const busy = v.snapshot?.status === "running" || v.restore !== undefined;
              // A volume restored here matches a snapshot of another row: its time counts too.
              const at = v.last_snapshot_at ?? v.row?.synced_at ?? null;
              return (
                <tr key={`${v.host_id}/${v.volume}`} data-volume={v.volume}>
                  <td class="card-title">
                    <a href={href}>{v.volume}</a>
                  </td>
                  {showHost && (
                    <td data-label="Host">{hostNames.get(`${v.host_id}\0${v.volume}`) ?? "—"}</td>
                  )}
                  <td data-label="Size" class="nowrap" data-size>
                    {v.row?.size_bytes != null
                      ? bytes(v.row.size_bytes)
                      : <span class="muted">—</span>}
                  </td>
                  <td data-label="Last snapshot">
                    {v.row && (v.row.sync_state !== "none" || at)
                      ? <SyncBadge state={v.row.sync_state} at={at} error={v.row.sync_error} />
                      : <span class="muted">never</span>}
                  </td>
                  {operate && (
                    <td class="actions-cell">
                      <div class="row-actions">
                        {hasTarget && !busy && (
                          <form method="post" action={`${href}/snapshot`} class="inline-action">
                            <input type="hidden" name="next" value={self} />
                            <button class="btn btn-small btn-primary" type="submit">
                              Create snapshot<span class="visually-hidden">
                                {` of ${v.volume}`}
                              </span>
                            </button>
                          </form>
                        )}
                        {v.newest_complete_id && !busy && (
                          <a
                            class="btn btn-small"
                            href={`${href}/restore?snapshot=${v.newest_complete_id}`}
                          >
                            Restore…<span class="visually-hidden">{` ${v.volume}`}</span>
                          </a>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
