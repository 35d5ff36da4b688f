/**
 * What other modules' events start here (they do not know this module listens):
 *
 * - **Snapshot on stop**: a user stopped a container (`docker.container_stopped`) or an app
 *   (`apps.stopped`) through Capstan; each of its volumes marked `on_stop` gets a snapshot with
 *   trigger "stop", taken after it stopped (the data is at rest then).
 * - **Restore on start**: a task container of an app started on a host (`agent.containers_changed`
 *   with a start event, after the cache knows its labels) and one of its volumes is marked `sync`
 *   while this host's copy is missing or older than the app volume's newest complete snapshot
 *   (taken on any host): the volume is restored. Swarm has no pre-start hook — the task is
 *   already running on the empty (or stale) volume when we hear of it — so the restore stops the
 *   app (scale to 0 through the apps module, so Swarm does not start a replacement meanwhile),
 *   restores with a wipe, and starts the app again. No loops: one restore per host and volume at
 *   a time, and after it the host's row is synced with that snapshot, so the next start does
 *   nothing.
 */
import type { ActionContext } from "../audit/service.ts";
import { SYSTEM } from "../audit/service.ts";
import type { AgentConnection } from "../agents/connection.ts";
import type { EventBus } from "../events.ts";
import type { Db } from "../db/mod.ts";
import type { Logger } from "../log.ts";
import { LABELS } from "../apps/swarm_spec.ts";
import type { SnapshotRuns } from "./runs.ts";
import type { Snapshot, SnapshotStore } from "./store.ts";
import type { HostVolume } from "./host_volumes.ts";
import "../apps/events.ts";
import "../agents/events.ts";
import "../hosts/container_actions.ts";

export interface TriggerDeps {
  events: Pick<EventBus, "on">;
  store: SnapshotStore;
  runs: Pick<SnapshotRuns, "start" | "restore">;
  db: Db;
  agent: (hostId: string) => AgentConnection | undefined;
  volumes: (conn: AgentConnection, orgId: string, hostId: string) => Promise<HostVolume[]>;
  log: Logger;
}

/** Subscribes the triggers; answers the function that unsubscribes them and waits for their work. */
export function subscribeTriggers(deps: TriggerDeps) {
  const { store, log } = deps;
  const inFlight = new Set<Promise<unknown>>();
  /** Host + volume pairs with a restore on start being decided or running. */
  const restoring = new Set<string>();
  /**
   * Host + volume → the snapshot whose restore on start failed there. The restore starts the
   * app again whatever happened, and that start must not try the same restore again (a stop and
   * start cycle with no end): it waits for a newer snapshot, or a user's restore.
   */
  const failedRestores = new Map<string, string>();

  const track = (p: Promise<unknown>) => {
    const q = p.catch((err) =>
      log.warn("snapshots: a trigger failed", {
        error: String(err instanceof Error ? err.message : err),
      })
    );
    inFlight.add(q);
    void q.finally(() => inFlight.delete(q));
  };

  /** Snapshots each on_stop volume of `hostId` that `mounts` says the stopped thing used. */
  async function snapshotOnStop(
    ctx: ActionContext,
    orgId: string,
    hostId: string,
    mounts: (v: HostVolume) => boolean,
  ) {
    // A restore into the volume stops what uses it (with the user's ctx for "same"): that stop
    // is the restore's, and the data it would snapshot is being replaced.
    const replaced = await store.volumesBeingReplaced(orgId, hostId);
    const marked = (await store.volumes(orgId, { host_id: hostId }))
      .filter((v) => v.on_stop && !replaced.has(v.volume));
    if (!marked.length) return;
    const conn = deps.agent(hostId);
    if (!conn) return;
    const present = (await deps.volumes(conn, orgId, hostId)).filter(mounts);
    for (const v of marked) {
      if (!present.some((p) => p.name === v.volume)) continue;
      const { done } = await deps.runs.start(ctx, orgId, {
        host_id: hostId,
        volume: v.volume,
        trigger: "stop",
      });
      await done;
    }
  }

  async function restoreOnStart(orgId: string, hostId: string, containerId: string) {
    const c = await deps.db.selectFrom("containers").select(["labels"])
      .where("org_id", "=", orgId).where("host_id", "=", hostId).where("id", "=", containerId)
      .executeTakeFirst();
    const labels = c ? JSON.parse(c.labels) as Record<string, string> : {};
    const appId = labels[LABELS.app];
    if (!appId) return;
    const synced = (await store.volumes(orgId, { app_id: appId })).filter((v) => v.sync);
    if (!synced.length) return;
    const conn = deps.agent(hostId);
    if (!conn) return;
    const mounted = (await deps.volumes(conn, orgId, hostId))
      .filter((v) => v.users.some((u) => u.id === containerId));
    for (const name of new Set(synced.map((v) => v.volume))) {
      if (!mounted.some((m) => m.name === name)) continue;
      const key = `${hostId}/${name}`;
      if (restoring.has(key)) continue;
      restoring.add(key);
      try {
        const rows = await store.appVolumes(appId, name);
        const newest = await store.newestComplete(rows.map((r) => r.id));
        if (!newest) continue;
        const here = rows.find((r) => r.host_id === hostId);
        if (here && !(await olderThan(here.synced_snapshot_id, newest))) continue;
        if (failedRestores.get(key) === newest.id) continue;
        const settings = rows.find((r) => r.sync) ?? rows[0];
        await store.ensureVolume(orgId, hostId, name, {
          app_id: appId,
          service: labels[LABELS.service] ?? settings.service,
          target_id: settings.target_id,
          mode: settings.mode,
          dump: settings.dump,
          on_stop: settings.on_stop,
          sync: 1,
        });
        log.info("snapshots: restoring on start", {
          host: hostId,
          volume: name,
          snapshot: newest.id,
        });
        const { done } = await deps.runs.restore(SYSTEM, orgId, newest.id, {
          kind: "start",
          host_id: hostId,
        });
        if ((await done).status === "failed") failedRestores.set(key, newest.id);
        else failedRestores.delete(key);
      } finally {
        restoring.delete(key);
      }
    }
  }

  /** Whether the host's copy (the snapshot it matches) is older than `newest`. */
  async function olderThan(syncedId: string | null, newest: Snapshot): Promise<boolean> {
    if (!syncedId) return true;
    if (syncedId === newest.id) return false;
    const mine = await store.snapshot(newest.org_id, syncedId);
    return !mine || (mine.finished_at ?? 0) < (newest.finished_at ?? 0);
  }

  const offs = [
    deps.events.on(
      "docker.container_stopped",
      (e) =>
        track(
          snapshotOnStop(e.ctx, e.org_id, e.host_id, (v) =>
            v.users.some((u) =>
              u.id === e.container_id || u.name === e.container_id
            )),
        ),
    ),
    deps.events.on("apps.stopped", (e) =>
      // Capstan's own stops (a restore's) are not the user's: no snapshot of what is replaced.
      e.ctx.actor.type !== "system" && track((async () => {
        const rows = (await store.volumes(e.org_id, { app_id: e.app_id })).filter((v) => v.on_stop);
        // An app volume has a row on each worker it ran on: the newest is where the app was.
        const latest = new Map<string, (typeof rows)[number]>();
        for (const r of rows) {
          const seen = latest.get(r.volume);
          if (!seen || r.updated_at > seen.updated_at) latest.set(r.volume, r);
        }
        for (const r of latest.values()) {
          await snapshotOnStop(e.ctx, e.org_id, r.host_id, (v) => v.name === r.volume);
        }
      })())),
    deps.events.on("agent.containers_changed", (e) => {
      if (e.event?.action !== "start") return;
      track(restoreOnStart(e.host.org_id, e.host.id, e.event.id));
    }),
  ];

  return {
    async close() {
      for (const off of offs) off();
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
