/**
 * Snapshot runs and restores: the hub records a snapshot (or a restore), asks the agent of the
 * host that has the volume to run restic (lib/protocol/snapshots.ts `snapshot.create` /
 * `snapshot.restore`), and follows its stream: progress goes to the row (at most once a second)
 * and to the realtime topic, the end makes the row complete — only when restic said "done" — or
 * failed with the message. Data never passes through the hub.
 *
 * Each run answers at once with its row and a `done` promise that settles when it ends (never
 * rejecting: a failure resolves with the failed row), so the API answers 202 and schedules wait.
 * A run's heartbeat is refreshed while it goes; a hub that died mid-run leaves a row that
 * `failStale` fails a few minutes later.
 */
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { AgentConnection, AgentStream } from "../agents/connection.ts";
import type { Hosts } from "../hosts/service.ts";
import { Conflict, invalidFields, NotFound, Unavailable } from "../errors.ts";
import { DockerInputError, volumeName } from "../docker/validate.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import { uuidv7 } from "../util/ids.ts";
import type { SnapshotChunk, SnapshotCreateParams } from "../protocol/snapshots.ts";
import type { OpenedTarget, Targets } from "./targets.ts";
import type { Snapshot, SnapshotRestore, SnapshotStore, SnapshotVolume } from "./store.ts";
import type { SnapshotProgressEvent } from "./topics.ts";
import type { HostVolume } from "./host_volumes.ts";
import type { EventBus } from "../events.ts";
import { SYSTEM } from "../audit/service.ts";
import { DumpSpec } from "../protocol/snapshots.ts";

/** Stops and starts an app (its Swarm services) and waits until the deployment ended. */
export interface AppControl {
  /** Scales the app to 0; answers whether it was running (so only then is it started after). */
  stop(ctx: ActionContext, orgId: string, appId: string): Promise<boolean>;
  start(ctx: ActionContext, orgId: string, appId: string): Promise<void>;
}

export interface RunDeps {
  store: SnapshotStore;
  targets: Pick<Targets, "open">;
  hosts: Pick<Hosts, "get">;
  /** The host's live agent, or undefined when it is not connected here. */
  agent: (hostId: string) => AgentConnection | undefined;
  /** The volumes of a host with the containers that mount them (lib/snapshots/host_volumes.ts). */
  volumes: (conn: AgentConnection, orgId: string, hostId: string) => Promise<HostVolume[]>;
  apps: AppControl;
  audit: Pick<AuditLog, "run">;
  clock: Clock;
  log: Logger;
  /** Failures go out as `snapshots.failed` (the alerts module raises them). */
  events?: Pick<EventBus, "emit">;
  publishSnapshot: (orgId: string, id: string, e: SnapshotProgressEvent) => void;
  publishRestore: (orgId: string, id: string, e: SnapshotProgressEvent) => void;
  /** The filesystem target's folder on a host when the target names none. */
  defaultPath: (orgId: string) => string;
  /** A running row without a heartbeat for this long is failed by `failStale` (default 3 min). */
  staleMs?: number;
  /** Least time between two progress writes to the database (default 1 s). */
  writeEveryMs?: number;
  /** How long a stopped app's containers may take to let go of a volume (default 2 min). */
  releaseTimeoutMs?: number;
}

/** What `start` takes. */
export interface StartRequest {
  host_id: string;
  volume: string;
  target_id?: string | null;
  trigger: Snapshot["trigger"];
  schedule_id?: string | null;
}

/** What `restore` takes. */
export interface RestoreRequest {
  kind: SnapshotRestore["kind"];
  volume?: string;
  host_id?: string;
}

export interface SnapshotRuns {
  /** Records a running snapshot and starts it on the volume's host; `done` settles when it ends (never rejects: resolves with the failed row). Conflict if one of that volume runs already; Unavailable if the host's agent is offline. */
  start(
    ctx: ActionContext,
    orgId: string,
    req: StartRequest,
  ): Promise<{ snapshot: Snapshot; done: Promise<Snapshot> }>;
  /** Restores a complete snapshot: kind "same" (into the volume it came from, its containers/app stopped first and started after), "new" (into `volume`, created), "verify" (a scratch volume removed after), "start" (restore on start). */
  restore(
    ctx: ActionContext,
    orgId: string,
    snapshotId: string,
    req: RestoreRequest,
  ): Promise<{ restore: SnapshotRestore; done: Promise<SnapshotRestore> }>;
  /** Deletes snapshots (restic forget --prune by ids on their target, then the rows). */
  remove(ctx: ActionContext, orgId: string, ids: string[]): Promise<{ removed: number }>;
  /** Runs restic forget with a keep policy for one volume's snapshots on its target (tags select the volume) and deletes the rows restic removed: answers the ids removed. `dryRun` answers what would go without removing (for the bulk-delete preview). */
  applyRetention(
    orgId: string,
    volumeId: string,
    keep: { last?: number; daily?: number; weekly?: number; monthly?: number },
    opts?: { dryRun?: boolean },
  ): Promise<{ removed: string[]; kept: string[] }>;
  /** Running snapshots/restores whose hub died: failed (a job calls it every minute). */
  failStale(): Promise<number>;
  /** Cancels every run of this process (hub shutdown): they end failed. */
  stop(): Promise<void>;
  /** Waits for the runs in flight (tests). */
  idle(): Promise<void>;
}

/** The restic tags of a volume's snapshots: they select it for retention and restores. */
export function snapshotTags(orgId: string, hostTag: string, volume: string, appId: string | null) {
  return [
    `capstan-org=${orgId}`,
    `capstan-host=${hostTag}`,
    `capstan-volume=${volume}`,
    ...(appId ? [`capstan-app=${appId}`] : []),
  ];
}

/**
 * The host a snapshot is recorded under in restic: an app volume's is the app (it may run on any
 * worker, and a restore on another one must find it), any other volume's its host.
 */
export function hostTagOf(hostId: string, appId: string | null): string {
  return appId ? `app-${appId}` : hostId;
}

/** How a run ended: restic's "done", or a failure with its message. */
type RunEnd = Extract<SnapshotChunk, { kind: "done" | "failed" }>;

const HEARTBEAT_MS = 20_000;
const STREAM_BUFFER = 1000;
const MAX_ERROR = 2000;
const CALL_TIMEOUT_MS = 3600_000;

/** A message safe to record: a domain or agent error's text, cut short. */
function messageOf(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.slice(0, MAX_ERROR);
}

/** Validates a volume name as a 400 naming `field`. */
function validVolume(v: unknown, field = "volume"): string {
  try {
    return volumeName(v, field);
  } catch (err) {
    if (err instanceof DockerInputError) throw invalidFields({ [field]: err.message });
    throw err;
  }
}

export function createSnapshotRuns(deps: RunDeps): SnapshotRuns {
  const { store, clock, log } = deps;
  const staleMs = deps.staleMs ?? 180_000;
  const writeEvery = deps.writeEveryMs ?? 1000;
  /** Runs of this process: their streams (to cancel at shutdown) and promises (to wait for). */
  const streams = new Set<AgentStream>();
  const inFlight = new Set<Promise<unknown>>();
  /** Volumes (host + name) with a snapshot or restore starting or running here. */
  const busy = new Set<string>();
  let stopping = false;

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  }

  function live(hostId: string): AgentConnection {
    const conn = deps.agent(hostId);
    if (!conn) throw new Unavailable("The host's agent is not connected");
    return conn;
  }

  /** The volume on the org's host, with its app; NotFound for another org's host or volume. */
  /** Tells a failed snapshot or restore (the alerts module raises it). */
  function tellFailed(
    what: "snapshot" | "restore",
    x: { org_id: string; id: string; host_id: string; volume: string },
    trigger: string,
    error: string,
  ) {
    deps.events?.emit("snapshots.failed", {
      org_id: x.org_id,
      what,
      id: x.id,
      host_id: x.host_id,
      volume: x.volume,
      trigger,
      error,
      at: clock.now(),
    });
  }

  async function findVolume(orgId: string, hostId: string, volume: string) {
    const host = await deps.hosts.get(orgId, hostId);
    const conn = live(host.id);
    const found = (await deps.volumes(conn, orgId, host.id)).find((v) => v.name === volume);
    if (!found) throw new NotFound(`No volume "${volume}" on host ${host.name}`);
    return { host, conn, found };
  }

  /** Follows a snapshot/restore stream to its end chunk; the callback sees each progress. */
  async function follow(
    stream: AgentStream,
    onProgress: (c: Extract<SnapshotChunk, { kind: "progress" }>) => Promise<void>,
  ): Promise<RunEnd> {
    streams.add(stream);
    try {
      let end: RunEnd | undefined;
      for await (const raw of stream) {
        const c = raw as SnapshotChunk;
        if (c.kind === "progress") await onProgress(c).catch(() => {});
        else end = c;
      }
      return end ?? {
        kind: "failed",
        message: stopping
          ? "The hub stopped during the run; retry it"
          : "The agent ended the run without an outcome",
      };
    } catch (err) {
      return {
        kind: "failed",
        message: stopping
          ? "The hub stopped during the run; retry it"
          : `The host's agent went away: ${messageOf(err)}`,
      };
    } finally {
      streams.delete(stream);
    }
  }

  /** Progress handling shared by snapshots and restores: throttled writes, every publish. */
  function progressOf(
    publish: (e: SnapshotProgressEvent) => void,
    id: string,
    write: (c: Extract<SnapshotChunk, { kind: "progress" }>) => Promise<void>,
  ) {
    let lastWrite = 0;
    return async (c: Extract<SnapshotChunk, { kind: "progress" }>) => {
      const secs = Math.max(c.seconds_elapsed, 0.001);
      publish({
        kind: "progress",
        id,
        bytes_done: c.bytes_done,
        total_bytes: c.total_bytes,
        percent: Math.round(Math.min(1, Math.max(0, c.percent_done)) * 1000) / 10,
        rate: Math.round(c.bytes_done / secs),
      });
      const now = clock.now();
      if (now - lastWrite < writeEvery) return;
      lastWrite = now;
      await write(c);
    };
  }

  /** Refreshes a running row's heartbeat while restic is quiet (a long restore, a slow remote). */
  function heartbeat(beat: () => Promise<void>): () => void {
    const t = setInterval(() => void beat().catch(() => {}), HEARTBEAT_MS);
    return () => clearInterval(t);
  }

  /**
   * Opens a run's stream and follows it to its end: the heartbeat refreshed meanwhile, progress
   * written (throttled) and published. Whatever goes wrong is a failed end, never a throw.
   */
  async function runStream(
    id: string,
    publish: (e: SnapshotProgressEvent) => void,
    update: (
      changes: { progress_bytes?: number; progress_total?: number; heartbeat_at: number },
    ) => Promise<void>,
    open: () => AgentStream | Promise<AgentStream>,
  ): Promise<RunEnd> {
    const stopBeat = heartbeat(() => update({ heartbeat_at: clock.now() }));
    try {
      return await follow(
        await open(),
        progressOf(publish, id, (c) =>
          update({
            progress_bytes: c.bytes_done,
            progress_total: c.total_bytes,
            heartbeat_at: clock.now(),
          })),
      );
    } catch (err) {
      return { kind: "failed", message: messageOf(err) };
    } finally {
      stopBeat();
    }
  }

  /** Removes stale locks after a failed run (best effort: the next run unlocks too). */
  async function unlock(conn: AgentConnection, t: OpenedTarget) {
    await conn.call("snapshot.unlock", { target: t.target, password: t.password }, 600_000)
      .catch((err) => log.warn("snapshots: unlock failed", { error: messageOf(err) }));
  }

  /**
   * A run as the caller's `done`: tracked, never rejecting (a crash of the run itself fails its
   * row), and the volume free again once it ended.
   */
  function settle<T extends { id: string }>(
    key: string,
    row: T,
    run: Promise<T>,
    fail: (changes: { status: "failed"; error: string; finished_at: number }) => Promise<void>,
    reread: () => Promise<T | undefined>,
  ): Promise<T> {
    return track(
      run.catch(async (err) => {
        log.error("snapshots: a run crashed", { id: row.id, error: messageOf(err) });
        await fail({ status: "failed", error: messageOf(err), finished_at: clock.now() })
          .catch(() => {});
        return (await reread()) ?? row;
      }).finally(() => busy.delete(key)),
    );
  }

  /** The host's copy of a volume matches `snapshotId` (taken from it or restored into it). */
  async function markSynced(volumeId: string, snapshotId: string, size: number) {
    await store.updateVolume(volumeId, {
      sync_state: "synced",
      sync_error: null,
      synced_snapshot_id: snapshotId,
      synced_at: clock.now(),
      size_bytes: size,
    });
  }

  // ---- snapshots

  /**
   * The consistency part of a snapshot's params: `live` reads the volume as it is; `stop` has
   * the agent stop the plain containers using it while a local copy is made; `dump` pipes the
   * database tool of the volume's dump setting into restic. An app's volume in `stop` mode is
   * read live while the hub holds the app stopped (Swarm would replace stopped task containers).
   */
  function modeParams(
    snap: Snapshot,
    vol: SnapshotVolume,
    users: HostVolume["users"],
  ): Pick<SnapshotCreateParams, "mode" | "containers" | "dump"> {
    if (snap.mode === "dump") {
      const dump = DumpSpec.safeParse(vol.dump ? JSON.parse(vol.dump) : undefined);
      if (!dump.success) {
        throw invalidFields({ dump: "Dump mode needs the database container and engine" });
      }
      return { mode: "dump", dump: dump.data };
    }
    const running = users.filter((u) => u.state === "running").map((u) => u.id);
    if (snap.mode === "stop" && !vol.app_id && running.length) {
      return { mode: "stop", containers: running.slice(0, 64) };
    }
    return { mode: "live" };
  }

  async function runSnapshot(
    conn: AgentConnection,
    snap: Snapshot,
    vol: SnapshotVolume,
    t: OpenedTarget,
    hostTag: string,
    users: HostVolume["users"],
  ): Promise<Snapshot> {
    const params: SnapshotCreateParams = {
      snapshot_id: snap.id,
      volume: snap.volume,
      target: t.target,
      password: t.password,
      tags: snapshotTags(snap.org_id, hostTag, snap.volume, snap.app_id),
      host_tag: hostTag,
      ...modeParams(snap, vol, users),
    };
    const publish = (e: SnapshotProgressEvent) => deps.publishSnapshot(snap.org_id, snap.id, e);
    // An app's volume in stop mode: the app is held stopped for the snapshot, then started.
    const holdApp = snap.mode === "stop" && vol.app_id !== null;
    const wasRunning = holdApp
      ? await deps.apps.stop(SYSTEM, snap.org_id, vol.app_id!).catch(() => false)
      : false;
    let end;
    try {
      end = await runStream(
        snap.id,
        publish,
        (changes) => store.updateSnapshot(snap.id, changes),
        () => conn.stream("snapshot.create", params, STREAM_BUFFER),
      );
    } finally {
      if (wasRunning) {
        await deps.apps.start(SYSTEM, snap.org_id, vol.app_id!).catch((err) =>
          deps.log.error("snapshots: could not start the app again after its snapshot", {
            app: vol.app_id,
            error: messageOf(err),
          })
        );
      }
    }
    // The volume (its row first) is free before the run's row says it ended: whoever reads
    // that may act on it at once (a retry, the storage page).
    busy.delete(`${snap.host_id}/${snap.volume}`);
    const now = clock.now();
    if (end.kind === "done") {
      await markSynced(vol.id, snap.id, end.total_bytes_processed);
      await store.updateSnapshot(snap.id, {
        status: "complete",
        restic_id: end.restic_id,
        files: end.total_files_processed,
        files_new: end.files_new,
        files_changed: end.files_changed,
        bytes_processed: end.total_bytes_processed,
        bytes_added: end.data_added,
        progress_bytes: end.total_bytes_processed,
        progress_total: end.total_bytes_processed,
        finished_at: now,
        heartbeat_at: now,
        duration_ms: now - snap.started_at,
        error: null,
      });
      publish({ kind: "state", id: snap.id, status: "complete", error: null });
      deps.events?.emit("snapshots.completed", {
        org_id: snap.org_id,
        id: snap.id,
        host_id: snap.host_id,
        volume: snap.volume,
        at: now,
      });
    } else {
      // Stale locks go first: once the row says failed, a retry may start at once.
      if (!stopping) await unlock(conn, t);
      const error = end.message.slice(0, MAX_ERROR);
      await store.updateVolume(vol.id, { sync_state: "failed", sync_error: error });
      await store.updateSnapshot(snap.id, {
        status: "failed",
        error,
        finished_at: now,
        heartbeat_at: now,
        duration_ms: now - snap.started_at,
      });
      publish({ kind: "state", id: snap.id, status: "failed", error });
      tellFailed("snapshot", snap, snap.trigger, error);
    }
    return (await store.snapshot(snap.org_id, snap.id))!;
  }

  async function start(ctx: ActionContext, orgId: string, req: StartRequest) {
    const volume = validVolume(req.volume);
    return await deps.audit.run(ctx, "snapshot.started", {
      orgId,
      target: { type: "volume", id: volume, name: volume },
      metadata: { host_id: req.host_id, trigger: req.trigger },
      after: (r: { snapshot: Snapshot }) => ({
        target: { type: "snapshot", id: r.snapshot.id, name: volume },
      }),
    }, async () => {
      if (stopping) throw new Unavailable("The hub is stopping");
      const { host, conn, found } = await findVolume(orgId, req.host_id, volume);
      const key = `${host.id}/${volume}`;
      if (busy.has(key)) throw new Conflict(`A snapshot or restore of "${volume}" is running`);
      busy.add(key);
      try {
        let vol = await store.ensureVolume(orgId, host.id, volume, {
          app_id: found.app_id,
          service: found.service,
        });
        if (found.app_id && vol.app_id !== found.app_id) {
          await store.updateVolume(vol.id, { app_id: found.app_id, service: found.service });
          vol = { ...vol, app_id: found.app_id, service: found.service };
        }
        if (vol.mode === "dump" && !DumpSpec.safeParse(vol.dump && JSON.parse(vol.dump)).success) {
          throw invalidFields({ dump: "Dump mode needs the database container and engine" });
        }
        if (await store.runningOf(vol.id)) {
          throw new Conflict(`A snapshot of "${volume}" is running`);
        }
        const t = await deps.targets.open(
          orgId,
          req.target_id ?? vol.target_id,
          deps.defaultPath,
        );
        const now = clock.now();
        const snap = await store.insertSnapshot({
          id: uuidv7(now),
          org_id: orgId,
          volume_id: vol.id,
          host_id: host.id,
          volume,
          app_id: vol.app_id,
          target_id: t.row.id,
          restic_id: null,
          status: "running",
          trigger: req.trigger,
          mode: vol.mode,
          schedule_id: req.schedule_id ?? null,
          files: null,
          files_new: null,
          files_changed: null,
          bytes_processed: null,
          bytes_added: null,
          progress_bytes: null,
          progress_total: null,
          started_at: now,
          heartbeat_at: now,
          finished_at: null,
          duration_ms: null,
          error: null,
          created_by: ctx.actor.type === "user" ? ctx.actor.id ?? null : null,
        });
        await store.updateVolume(vol.id, { sync_state: "pending", sync_error: null });
        const done = settle(
          key,
          snap,
          runSnapshot(conn, snap, vol, t, hostTagOf(host.id, vol.app_id), found.users),
          (changes) => store.updateSnapshot(snap.id, changes),
          () => store.snapshot(orgId, snap.id),
        );
        return { snapshot: snap, done };
      } catch (err) {
        busy.delete(key);
        throw err;
      }
    });
  }

  // ---- restores

  /** Waits until no running container mounts `volume` on the host (an app scaled to 0). */
  async function released(conn: AgentConnection, orgId: string, hostId: string, volume: string) {
    const until = clock.now() + (deps.releaseTimeoutMs ?? 120_000);
    for (;;) {
      const v = (await deps.volumes(conn, orgId, hostId)).find((x) => x.name === volume);
      if (!v?.users.some((u) => u.state === "running")) return;
      if (clock.now() > until) {
        throw new Conflict(`The containers of "${volume}" did not stop in time`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Stops what uses the volume on the host and answers how to start it again: an app through
   * the apps module (so Swarm does not start a new task meanwhile), else the containers that
   * mount it, through the agent.
   */
  async function quiesce(
    ctx: ActionContext,
    conn: AgentConnection,
    orgId: string,
    hostId: string,
    found: HostVolume | undefined,
    appId: string | null,
  ): Promise<() => Promise<void>> {
    if (appId) {
      const wasRunning = await deps.apps.stop(ctx, orgId, appId);
      await released(conn, orgId, hostId, found?.name ?? "");
      return async () => {
        if (wasRunning) await deps.apps.start(ctx, orgId, appId);
      };
    }
    const running = (found?.users ?? []).filter((u) => u.state === "running");
    for (const u of running) await conn.call("container.stop", { id: u.id }, 120_000);
    return async () => {
      for (const u of running) {
        await conn.call("container.start", { id: u.id }, 120_000).catch((err) =>
          log.warn("snapshots: a container did not start again", {
            container: u.name,
            error: messageOf(err),
          })
        );
      }
    };
  }

  async function runRestore(
    ctx: ActionContext,
    conn: AgentConnection,
    r: SnapshotRestore,
    snap: Snapshot,
    found: HostVolume | undefined,
    t: OpenedTarget,
  ): Promise<SnapshotRestore> {
    const publish = (e: SnapshotProgressEvent) => deps.publishRestore(r.org_id, r.id, e);
    const inPlace = r.kind === "same" || r.kind === "start";
    let restart: (() => Promise<void>) | undefined;
    let end = await runStream(
      r.id,
      publish,
      (changes) => store.updateRestore(r.id, changes),
      async () => {
        if (inPlace) restart = await quiesce(ctx, conn, r.org_id, r.host_id, found, snap.app_id);
        return conn.stream("snapshot.restore", {
          restic_id: snap.restic_id!,
          target: t.target,
          password: t.password,
          volume: r.volume,
          wipe: inPlace,
          labels: { "capstan.restored-from": snap.id },
        }, STREAM_BUFFER);
      },
    );
    // What was stopped starts again whatever the outcome.
    if (restart) {
      await restart().catch((err) => {
        if (end.kind === "done") {
          end = {
            kind: "failed",
            message: `Restored, but starting again failed: ${messageOf(err)}`,
          };
        }
      });
    }
    if (r.kind === "verify") {
      await conn.call("volume.remove", { name: r.volume, force: true }, 120_000).catch((err) =>
        log.warn("snapshots: scratch volume not removed", {
          volume: r.volume,
          error: messageOf(err),
        })
      );
    }
    busy.delete(`${r.host_id}/${r.volume}`);
    const now = clock.now();
    if (end.kind === "done") {
      if (r.kind !== "verify") {
        const vol = await store.ensureVolume(r.org_id, r.host_id, r.volume, {
          app_id: snap.app_id,
        });
        await markSynced(vol.id, snap.id, end.total_bytes_processed);
      }
      await store.updateRestore(r.id, {
        status: "complete",
        progress_bytes: end.total_bytes_processed,
        progress_total: end.total_bytes_processed,
        finished_at: now,
        heartbeat_at: now,
        error: null,
      });
      publish({ kind: "state", id: r.id, status: "complete", error: null });
    } else {
      if (!stopping) await unlock(conn, t);
      const error = end.message.slice(0, MAX_ERROR);
      if (inPlace) {
        const vol = await store.volumeOn(r.org_id, r.host_id, r.volume);
        if (vol) await store.updateVolume(vol.id, { sync_state: "failed", sync_error: error });
      }
      await store.updateRestore(r.id, {
        status: "failed",
        error,
        finished_at: now,
        heartbeat_at: now,
      });
      publish({ kind: "state", id: r.id, status: "failed", error });
      tellFailed("restore", r, r.kind, error);
    }
    return (await store.restore(r.org_id, r.id))!;
  }

  async function restore(
    ctx: ActionContext,
    orgId: string,
    snapshotId: string,
    req: RestoreRequest,
  ) {
    return await deps.audit.run(ctx, `snapshot.restore_${req.kind}`, {
      orgId,
      target: { type: "snapshot", id: snapshotId },
      metadata: { kind: req.kind, host_id: req.host_id, volume: req.volume },
      after: (x: { restore: SnapshotRestore }) => ({
        metadata: {
          restore_id: x.restore.id,
          host_id: x.restore.host_id,
          volume: x.restore.volume,
        },
      }),
    }, async () => {
      if (stopping) throw new Unavailable("The hub is stopping");
      const snap = await store.snapshot(orgId, snapshotId);
      if (!snap) throw new NotFound(`No snapshot ${snapshotId}`);
      if (snap.status !== "complete" || !snap.restic_id) {
        throw new Conflict("Only a complete snapshot can be restored");
      }
      const hostId = req.host_id ?? snap.host_id;
      const host = await deps.hosts.get(orgId, hostId);
      const conn = live(host.id);
      let volume: string;
      if (req.kind === "new") {
        if (!req.volume) throw invalidFields({ volume: "Name the new volume" });
        volume = validVolume(req.volume);
      } else if (req.kind === "verify") {
        volume = `capstan-verify-${snap.id.slice(-12).toLowerCase()}-${clock.now().toString(36)}`;
      } else {
        volume = snap.volume;
      }
      const present = (await deps.volumes(conn, orgId, host.id)).find((v) => v.name === volume);
      if (req.kind === "new" && present) {
        throw new Conflict(`Volume "${volume}" exists already on ${host.name}`);
      }
      const key = `${host.id}/${volume}`;
      if (busy.has(key)) throw new Conflict(`A snapshot or restore of "${volume}" is running`);
      const row = await store.volumeOn(orgId, host.id, volume);
      if (row && await store.runningOf(row.id)) {
        throw new Conflict(`A snapshot of "${volume}" is running`);
      }
      busy.add(key);
      try {
        const t = await deps.targets.open(orgId, snap.target_id, deps.defaultPath);
        const now = clock.now();
        const r = await store.insertRestore({
          id: uuidv7(now),
          org_id: orgId,
          snapshot_id: snap.id,
          host_id: host.id,
          volume,
          kind: req.kind,
          status: "running",
          progress_bytes: null,
          progress_total: null,
          started_at: now,
          heartbeat_at: now,
          finished_at: null,
          error: null,
          created_by: ctx.actor.type === "user" ? ctx.actor.id ?? null : null,
        });
        if (row && (req.kind === "same" || req.kind === "start")) {
          await store.updateVolume(row.id, { sync_state: "pending", sync_error: null });
        }
        const done = settle(
          key,
          r,
          runRestore(ctx, conn, r, snap, present, t),
          (changes) => store.updateRestore(r.id, changes),
          () => store.restore(orgId, r.id),
        );
        return { restore: r, done };
      } catch (err) {
        busy.delete(key);
        throw err;
      }
    });
  }

  // ---- deletion and retention

  async function remove(ctx: ActionContext, orgId: string, ids: string[]) {
    const unique = [...new Set(ids)];
    return await deps.audit.run(ctx, "snapshot.deleted", {
      orgId,
      target: { type: "snapshot", id: unique.length === 1 ? unique[0] : null },
      metadata: { count: unique.length, ids: unique.slice(0, 50) },
    }, async () => {
      const rows: Snapshot[] = [];
      for (const id of unique) {
        const s = await store.snapshot(orgId, id);
        if (!s) throw new NotFound(`No snapshot ${id}`);
        if (s.status === "running") throw new Conflict(`Snapshot ${id} is still running`);
        rows.push(s);
      }
      // One forget per repository: a target's repository as seen from the host that wrote it
      // (a filesystem target is a folder on each host).
      const groups = new Map<string, Snapshot[]>();
      for (const s of rows) {
        if (!s.restic_id) continue;
        const k = `${s.target_id}\0${s.host_id}`;
        groups.set(k, [...(groups.get(k) ?? []), s]);
      }
      for (const group of groups.values()) {
        const { target_id, host_id } = group[0];
        const conn = live(host_id);
        const t = await deps.targets.open(orgId, target_id, deps.defaultPath);
        await conn.call("snapshot.forget", {
          target: t.target,
          password: t.password,
          ids: group.map((s) => s.restic_id!),
        }, CALL_TIMEOUT_MS).catch((err) => {
          throw new Unavailable(
            `The snapshots could not be removed from the target: ${messageOf(err)}`,
            "restic_failed",
          );
        });
      }
      return { removed: await store.removeSnapshots(orgId, rows.map((s) => s.id)) };
    });
  }

  async function applyRetention(
    orgId: string,
    volumeId: string,
    keep: { last?: number; daily?: number; weekly?: number; monthly?: number },
    opts: { dryRun?: boolean } = {},
  ) {
    const vol = await store.volume(orgId, volumeId);
    if (!vol) throw new NotFound(`No volume ${volumeId}`);
    if (!Object.values(keep).some((v) => v !== undefined && v > 0)) {
      throw invalidFields({ keep: "Keep at least one of last, daily, weekly, monthly" });
    }
    const conn = live(vol.host_id);
    const t = await deps.targets.open(orgId, vol.target_id, deps.defaultPath);
    const hostTag = hostTagOf(vol.host_id, vol.app_id);
    const out = await conn.call<{ removed: string[]; kept: string[] }>("snapshot.forget", {
      target: t.target,
      password: t.password,
      keep,
      tags: snapshotTags(orgId, hostTag, vol.volume, vol.app_id),
      dry_run: opts.dryRun ?? false,
    }, CALL_TIMEOUT_MS);
    const removedRows = await store.byResticIds(orgId, t.row.id, out.removed);
    const keptRows = await store.byResticIds(orgId, t.row.id, out.kept);
    if (!opts.dryRun) await store.removeSnapshots(orgId, removedRows.map((s) => s.id));
    return { removed: removedRows.map((s) => s.id), kept: keptRows.map((s) => s.id) };
  }

  return {
    start,
    restore,
    remove,
    applyRetention,
    async failStale() {
      const before = clock.now() - staleMs;
      const error = "The hub stopped following this run (no heartbeat); retry it";
      const stale = await store.staleRuns(before);
      const failed = await store.failStale(before, error);
      // Told like any failure: a hub that died mid-run must not leave a backup silently missing.
      for (const x of stale.snapshots) {
        tellFailed("snapshot", x, x.trigger, error);
      }
      for (const x of stale.restores) {
        tellFailed("restore", x, x.kind, error);
      }
      return failed;
    },
    async stop() {
      stopping = true;
      for (const s of streams) s.cancel();
      await Promise.allSettled([...inFlight]);
    },
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
