/**
 * What other pages show of volumes' snapshots: the storage card of a container or an app (each
 * volume's size, last snapshot, sync state, the snapshot or restore running now, the newest
 * complete snapshot to restore) and the sync indicator of each row of the containers list. Reads
 * only: starting a snapshot or a restore stays with `snapshotRuns`.
 */
import { LABELS } from "../apps/swarm_spec.ts";
import type { AgentConnection } from "../agents/connection.ts";
import { type HostVolume, hostVolumesWithin } from "./host_volumes.ts";
import type { Snapshot, SnapshotRestore, SnapshotStore, SnapshotVolume } from "./store.ts";

/** One volume as a storage card shows it. */
export interface VolumeCard {
  host_id: string;
  volume: string;
  /** Capstan's row of it: absent until its first snapshot, schedule or setting. */
  row: SnapshotVolume | undefined;
  last_snapshot_at: number | null;
  /** The newest complete snapshot, the one "Restore…" offers. */
  newest_complete_id: string | null;
  /** The snapshot running now, or the one the page was asked to follow (even once it ended). */
  snapshot: Snapshot | undefined;
  /** A restore into this volume running now. */
  restore: SnapshotRestore | undefined;
}

/** A volume a card asks about. */
export interface VolumeRef {
  host_id: string;
  volume: string;
}

/** A container of the list, as the sync indicator needs it. */
export interface ListedContainer {
  host_id: string;
  id: string;
  labels: Record<string, string>;
}

export type SyncState = SnapshotVolume["sync_state"];

export interface VolumeCardDeps {
  store: SnapshotStore;
  agent: (hostId: string) => AgentConnection | undefined;
  volumes: (conn: AgentConnection, orgId: string, hostId: string) => Promise<HostVolume[]>;
  now?: () => number;
}

/** Most volumes one card shows. */
export const MAX_CARD_VOLUMES = 64;
/** How long the containers list waits for a host's volume users before it goes without. */
const USERS_TIMEOUT_MS = 3_000;
/** How long a host's volume users are reused by the containers list (a badge may lag this much). */
const USERS_TTL_MS = 15_000;
/** Most hosts whose volume users are remembered. */
const USERS_CACHE_MAX = 1_000;

/** Worst first: the badge of a container shows the worst state among its volumes. */
const SEVERITY: Record<SyncState, number> = { failed: 3, pending: 2, none: 1, synced: 0 };

/** The worst of `states` (failed > pending > none > synced); undefined when there is none. */
export function worstSync(states: Iterable<SyncState>): SyncState | undefined {
  let worst: SyncState | undefined;
  for (const s of states) if (worst === undefined || SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

export function createVolumeCards(deps: VolumeCardDeps) {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  /** `<org>/<host>` → when read, and container id → the volumes it mounts. */
  const usersCache = new Map<string, { at: number; users: Map<string, string[]> }>();

  /** Which volumes each container of a host mounts; undefined when its agent does not answer. */
  async function volumeUsers(orgId: string, hostId: string) {
    const key = `${orgId}/${hostId}`;
    const hit = usersCache.get(key);
    if (hit && now() - hit.at < USERS_TTL_MS) return hit.users;
    const list = await hostVolumesWithin(deps, orgId, hostId, USERS_TIMEOUT_MS);
    if (!list) return undefined;
    const users = new Map<string, string[]>();
    for (const v of list) {
      for (const u of v.users) users.set(u.id, [...(users.get(u.id) ?? []), v.name]);
    }
    if (usersCache.size >= USERS_CACHE_MAX) usersCache.delete(usersCache.keys().next().value!);
    usersCache.delete(key);
    usersCache.set(key, { at: now(), users });
    return users;
  }

  return {
    /**
     * The card of each of `refs` (deduplicated, at most MAX_CARD_VOLUMES), in their order.
     * `follow` names a snapshot the page follows: shown while running and after it ended.
     */
    async cards(
      orgId: string,
      refs: VolumeRef[],
      opts: { follow?: string } = {},
    ): Promise<VolumeCard[]> {
      const seen = new Set<string>();
      const wanted = refs.filter((r) => {
        const k = `${r.host_id}\0${r.volume}`;
        return !seen.has(k) && seen.add(k);
      }).slice(0, MAX_CARD_VOLUMES);
      if (!wanted.length) return [];
      const rows = await store.volumesNamed(orgId, [...new Set(wanted.map((r) => r.volume))]);
      const rowOf = (r: VolumeRef) =>
        rows.find((x) => x.host_id === r.host_id && x.volume === r.volume);
      const ids = wanted.flatMap((r) => rowOf(r)?.id ?? []);
      const hosts = [...new Set(wanted.map((r) => r.host_id))];
      const [last, followed, restores] = await Promise.all([
        store.lastComplete(orgId, ids),
        opts.follow ? store.snapshot(orgId, opts.follow) : undefined,
        Promise.all(hosts.map((h) => store.restores(orgId, { host_id: h, limit: 20 }))),
      ]);
      const running = restores.flat().filter((r) => r.status === "running");
      return await Promise.all(wanted.map(async (r) => {
        const row = rowOf(r);
        const [newest, current] = row
          ? await Promise.all([
            store.snapshots(orgId, { volume_id: row.id, status: "complete", limit: 1 }),
            store.runningOf(row.id),
          ])
          : [[], undefined];
        return {
          host_id: r.host_id,
          volume: r.volume,
          row,
          last_snapshot_at: row ? last.get(row.id) ?? null : null,
          newest_complete_id: newest[0]?.id ?? null,
          snapshot: current ?? (row && followed?.volume_id === row.id ? followed : undefined),
          restore: running.find((x) => x.host_id === r.host_id && x.volume === r.volume),
        };
      }));
    },

    /**
     * The sync state of each listed container that mounts a volume Capstan has a row for (the
     * worst among its volumes), keyed `<host id>/<container id>`. One query of the rows of the
     * list's hosts; only hosts that have rows are asked which container mounts what (one agent
     * call each, remembered briefly). A host that does not answer falls back to app labels: a
     * task container of an app carries the app volumes' rows.
     */
    async containerSync(
      orgId: string,
      containers: ListedContainer[],
    ): Promise<Map<string, SyncState>> {
      const out = new Map<string, SyncState>();
      const hosts = [...new Set(containers.map((c) => c.host_id))];
      const rows = await store.volumesOnHosts(orgId, hosts);
      if (!rows.length) return out;
      const withRows = hosts.filter((h) => rows.some((r) => r.host_id === h));
      const users = new Map(
        await Promise.all(withRows.map(async (h) => [h, await volumeUsers(orgId, h)] as const)),
      );
      for (const c of containers) {
        const here = rows.filter((r) => r.host_id === c.host_id);
        if (!here.length) continue;
        const known = users.get(c.host_id);
        const app = c.labels[LABELS.app];
        const service = c.labels[LABELS.service];
        const mine = known
          ? here.filter((r) => known.get(c.id)?.includes(r.volume))
          : here.filter((r) =>
            app !== undefined && r.app_id === app && (!r.service || r.service === service)
          );
        const worst = worstSync(mine.map((r) => r.sync_state));
        if (worst) out.set(`${c.host_id}/${c.id}`, worst);
      }
      return out;
    },
  };
}

export type VolumeCards = ReturnType<typeof createVolumeCards>;
