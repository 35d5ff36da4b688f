/**
 * The snapshots module's rows: storage targets, known volumes, snapshots, schedules and restores.
 * PostgreSQL answers bigint columns as strings; every row leaves here with numbers.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import type {
  SnapshotRestoresTable,
  SnapshotSchedulesTable,
  SnapshotsTable,
  SnapshotVolumesTable,
  StorageTargetsTable,
} from "./tables.ts";

export type StorageTarget = StorageTargetsTable;
export type SnapshotVolume = SnapshotVolumesTable;
export type Snapshot = SnapshotsTable;
export type SnapshotSchedule = SnapshotSchedulesTable;
export type SnapshotRestore = SnapshotRestoresTable;

/** The most rows one page answers. */
export const MAX_PAGE = 200;

/** The row with each named column a number (or null). */
function numeric<T>(row: T, keys: readonly (keyof T)[]): T {
  const out = { ...row };
  for (const k of keys) {
    const v = out[k];
    if (v !== null && v !== undefined) out[k] = Number(v) as T[keyof T];
  }
  return out;
}

const TARGET_NUMS = [
  "is_default",
  "tested_at",
  "test_ok",
  "verified_at",
  "verify_next_at",
  "created_at",
  "updated_at",
] as const;
const VOLUME_NUMS = [
  "on_stop",
  "sync",
  "size_bytes",
  "synced_at",
  "created_at",
  "updated_at",
] as const;
const SNAPSHOT_NUMS = [
  "files",
  "files_new",
  "files_changed",
  "bytes_processed",
  "bytes_added",
  "progress_bytes",
  "progress_total",
  "started_at",
  "heartbeat_at",
  "finished_at",
  "duration_ms",
] as const;
const SCHEDULE_NUMS = [
  "keep_last",
  "keep_daily",
  "keep_weekly",
  "keep_monthly",
  "enabled",
  "next_run_at",
  "last_run_at",
  "created_at",
  "updated_at",
] as const;
const RESTORE_NUMS = [
  "progress_bytes",
  "progress_total",
  "started_at",
  "heartbeat_at",
  "finished_at",
] as const;

const targetOf = (r: StorageTargetsTable) => numeric(r, TARGET_NUMS);
const volumeOf = (r: SnapshotVolumesTable) => numeric(r, VOLUME_NUMS);
const snapshotOf = (r: SnapshotsTable) => numeric(r, SNAPSHOT_NUMS);
const scheduleOf = (r: SnapshotSchedulesTable) => numeric(r, SCHEDULE_NUMS);
const restoreOf = (r: SnapshotRestoresTable) => numeric(r, RESTORE_NUMS);

/** Which snapshots a list answers (newest first, `before` an id for the next page). */
export interface SnapshotFilter {
  volume_id?: string;
  host_id?: string;
  app_id?: string;
  target_id?: string;
  status?: Snapshot["status"];
  before?: string;
  limit?: number;
}

export function createSnapshotStore(db: Db, clock: Clock) {
  const page = (limit?: number) => Math.max(1, Math.min(limit ?? 50, MAX_PAGE));
  return {
    // ---- targets
    async targets(orgId: string): Promise<StorageTarget[]> {
      const rows = await db.selectFrom("storage_targets").selectAll().where("org_id", "=", orgId)
        .orderBy("name").limit(MAX_PAGE).execute();
      return rows.map(targetOf);
    },
    async target(orgId: string, id: string): Promise<StorageTarget | undefined> {
      const r = await db.selectFrom("storage_targets").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return r ? targetOf(r) : undefined;
    },
    async defaultTarget(orgId: string): Promise<StorageTarget | undefined> {
      const r = await db.selectFrom("storage_targets").selectAll().where("org_id", "=", orgId)
        .where("is_default", "=", 1).executeTakeFirst();
      return r ? targetOf(r) : undefined;
    },
    /** Inserts a target; a duplicate name throws the database's unique violation. */
    async insertTarget(row: StorageTarget): Promise<StorageTarget> {
      await db.insertInto("storage_targets").values(row).execute();
      return row;
    },
    async updateTarget(
      orgId: string,
      id: string,
      changes: Partial<Omit<StorageTarget, "id" | "org_id" | "created_at" | "created_by">>,
    ): Promise<StorageTarget | undefined> {
      await db.updateTable("storage_targets").set({ ...changes, updated_at: clock.now() })
        .where("org_id", "=", orgId).where("id", "=", id).execute();
      return await this.target(orgId, id);
    },
    /** Makes `id` the org's only default target. */
    async setDefaultTarget(orgId: string, id: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.updateTable("storage_targets").set({ is_default: 0 }).where("org_id", "=", orgId)
          .where("id", "!=", id).execute();
        await tx.updateTable("storage_targets").set({ is_default: 1 }).where("org_id", "=", orgId)
          .where("id", "=", id).execute();
      });
    },
    async removeTarget(orgId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom("storage_targets").where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** Targets whose verification is due (every org). */
    async targetsToVerify(now: number): Promise<StorageTarget[]> {
      const rows = await db.selectFrom("storage_targets").selectAll()
        .where("verify_next_at", "<=", now).where("verify_status", "!=", "running")
        .orderBy("verify_next_at").limit(MAX_PAGE).execute();
      return rows.map(targetOf);
    },

    /**
     * Marks a target's verification running and moves its next one to `next`: answers false when
     * one runs already, or (given `from`) when another replica moved the next run first.
     */
    async claimVerify(
      id: string,
      next: number | null,
      from?: number,
    ): Promise<boolean> {
      let q = db.updateTable("storage_targets")
        .set({ verify_status: "running", verify_next_at: next, updated_at: clock.now() })
        .where("id", "=", id).where("verify_status", "!=", "running");
      if (from !== undefined) q = q.where("verify_next_at", "=", from);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Verifications still running since before `before` (their hub stopped) become failed. */
    async failStaleVerify(before: number, error: string): Promise<number> {
      const r = await db.updateTable("storage_targets")
        .set({ verify_status: "failed", verify_error: error, updated_at: clock.now() })
        .where("verify_status", "=", "running").where("updated_at", "<", before)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    // ---- volumes
    async volumes(orgId: string, opts: { host_id?: string; app_id?: string } = {}) {
      let q = db.selectFrom("snapshot_volumes").selectAll().where("org_id", "=", orgId);
      if (opts.host_id) q = q.where("host_id", "=", opts.host_id);
      if (opts.app_id) q = q.where("app_id", "=", opts.app_id);
      const rows = await q.orderBy("host_id").orderBy("volume").limit(5000).execute();
      return rows.map(volumeOf);
    },
    /** The rows of the volumes named `names` (at most 500) on any of the org's hosts. */
    async volumesNamed(orgId: string, names: string[]): Promise<SnapshotVolume[]> {
      if (!names.length) return [];
      const rows = await db.selectFrom("snapshot_volumes").selectAll().where("org_id", "=", orgId)
        .where("volume", "in", names.slice(0, 500)).limit(5000).execute();
      return rows.map(volumeOf);
    },
    /** The rows of the volumes on any of `hostIds` (at most 500 hosts). */
    async volumesOnHosts(orgId: string, hostIds: string[]): Promise<SnapshotVolume[]> {
      if (!hostIds.length) return [];
      const rows = await db.selectFrom("snapshot_volumes").selectAll().where("org_id", "=", orgId)
        .where("host_id", "in", hostIds.slice(0, 500)).limit(5000).execute();
      return rows.map(volumeOf);
    },
    async volume(orgId: string, id: string): Promise<SnapshotVolume | undefined> {
      const r = await db.selectFrom("snapshot_volumes").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return r ? volumeOf(r) : undefined;
    },
    async volumeOn(
      orgId: string,
      hostId: string,
      volume: string,
    ): Promise<SnapshotVolume | undefined> {
      const r = await db.selectFrom("snapshot_volumes").selectAll().where("org_id", "=", orgId)
        .where("host_id", "=", hostId).where("volume", "=", volume).executeTakeFirst();
      return r ? volumeOf(r) : undefined;
    },
    /** The rows of one app volume on every host it has been on. */
    async appVolumes(appId: string, volume: string): Promise<SnapshotVolume[]> {
      const rows = await db.selectFrom("snapshot_volumes").selectAll().where("app_id", "=", appId)
        .where("volume", "=", volume).execute();
      return rows.map(volumeOf);
    },
    /**
     * The row of `volume` on `hostId`, made with `init` when there is none yet (two callers at
     * once get the same row).
     */
    async ensureVolume(
      orgId: string,
      hostId: string,
      volume: string,
      init: Partial<
        Pick<
          SnapshotVolume,
          "app_id" | "service" | "target_id" | "mode" | "dump" | "on_stop" | "sync"
        >
      > = {},
    ): Promise<SnapshotVolume> {
      const found = await this.volumeOn(orgId, hostId, volume);
      if (found) return found;
      const now = clock.now();
      const row: SnapshotVolume = {
        id: uuidv7(now),
        org_id: orgId,
        host_id: hostId,
        volume,
        app_id: init.app_id ?? null,
        service: init.service ?? null,
        target_id: init.target_id ?? null,
        mode: init.mode ?? "live",
        dump: init.dump ?? null,
        on_stop: init.on_stop ?? 0,
        sync: init.sync ?? 0,
        size_bytes: null,
        synced_snapshot_id: null,
        synced_at: null,
        sync_state: "none",
        sync_error: null,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto("snapshot_volumes").values(row)
        .onConflict((oc) => oc.columns(["org_id", "host_id", "volume"]).doNothing()).execute();
      return (await this.volumeOn(orgId, hostId, volume))!;
    },
    async updateVolume(
      id: string,
      changes: Partial<Omit<SnapshotVolume, "id" | "org_id" | "host_id" | "volume" | "created_at">>,
    ): Promise<void> {
      await db.updateTable("snapshot_volumes").set({ ...changes, updated_at: clock.now() })
        .where("id", "=", id).execute();
    },

    // ---- snapshots
    async insertSnapshot(row: Snapshot): Promise<Snapshot> {
      await db.insertInto("snapshots").values(row).execute();
      return row;
    },
    async snapshot(orgId: string, id: string): Promise<Snapshot | undefined> {
      const r = await db.selectFrom("snapshots").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return r ? snapshotOf(r) : undefined;
    },
    async snapshots(orgId: string, f: SnapshotFilter = {}): Promise<Snapshot[]> {
      let q = db.selectFrom("snapshots").selectAll().where("org_id", "=", orgId);
      if (f.volume_id) q = q.where("volume_id", "=", f.volume_id);
      if (f.host_id) q = q.where("host_id", "=", f.host_id);
      if (f.app_id) q = q.where("app_id", "=", f.app_id);
      if (f.target_id) q = q.where("target_id", "=", f.target_id);
      if (f.status) q = q.where("status", "=", f.status);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(page(f.limit)).execute();
      return rows.map(snapshotOf);
    },
    /** The newest complete snapshot among `volumeIds` (an app volume's rows on every host). */
    async newestComplete(volumeIds: string[]): Promise<Snapshot | undefined> {
      if (!volumeIds.length) return undefined;
      const r = await db.selectFrom("snapshots").selectAll().where("volume_id", "in", volumeIds)
        .where("status", "=", "complete").orderBy("finished_at", "desc").orderBy("id", "desc")
        .executeTakeFirst();
      return r ? snapshotOf(r) : undefined;
    },
    /** The newest complete snapshot's time of each of `volumeIds` (those that have one). */
    async lastComplete(orgId: string, volumeIds: string[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      for (let i = 0; i < volumeIds.length; i += 500) {
        const rows = await db.selectFrom("snapshots")
          .select(["volume_id", (eb) => eb.fn.max("finished_at").as("at")])
          .where("org_id", "=", orgId).where("status", "=", "complete")
          .where("volume_id", "in", volumeIds.slice(i, i + 500)).groupBy("volume_id").execute();
        for (const r of rows) if (r.at !== null) out.set(r.volume_id, Number(r.at));
      }
      return out;
    },
    /**
     * Snapshot data per organization and app (null: volumes of no app): the sum of the bytes
     * restic said each complete snapshot still kept added to its repository (its deduplicated new
     * data). The billing module meters it as stored bytes (lib/billing/facts.ts). At most 100,000
     * groups.
     */
    async storedBytes(): Promise<{ org_id: string; app_id: string | null; bytes: number }[]> {
      const rows = await db.selectFrom("snapshots")
        .select(["org_id", "app_id", (eb) => eb.fn.sum<number>("bytes_added").as("bytes")])
        .where("status", "=", "complete").groupBy(["org_id", "app_id"]).limit(100_000).execute();
      return rows.map((r) => ({
        org_id: r.org_id,
        app_id: r.app_id,
        bytes: Number(r.bytes ?? 0),
      }));
    },
    /** Whether a snapshot of the volume is running. */
    async runningOf(volumeId: string): Promise<Snapshot | undefined> {
      const r = await db.selectFrom("snapshots").selectAll().where("volume_id", "=", volumeId)
        .where("status", "=", "running").executeTakeFirst();
      return r ? snapshotOf(r) : undefined;
    },
    /** The snapshots of one target whose restic ids are among `resticIds`. */
    async byResticIds(orgId: string, targetId: string, resticIds: string[]): Promise<Snapshot[]> {
      const out: Snapshot[] = [];
      for (let i = 0; i < resticIds.length; i += 500) {
        const rows = await db.selectFrom("snapshots").selectAll().where("org_id", "=", orgId)
          .where("target_id", "=", targetId).where("restic_id", "in", resticIds.slice(i, i + 500))
          .execute();
        out.push(...rows.map(snapshotOf));
      }
      return out;
    },
    async updateSnapshot(
      id: string,
      changes: Partial<Omit<Snapshot, "id" | "org_id">>,
    ): Promise<void> {
      await db.updateTable("snapshots").set(changes).where("id", "=", id).execute();
    },
    async removeSnapshots(orgId: string, ids: string[]): Promise<number> {
      if (!ids.length) return 0;
      const r = await db.deleteFrom("snapshots").where("org_id", "=", orgId)
        .where("id", "in", ids).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Running snapshots and restores whose heartbeat is older than `before` become failed. */
    /** Running snapshots and restores whose heartbeat is older than `before` (200 of each at most). */
    async staleRuns(
      before: number,
    ): Promise<{ snapshots: Snapshot[]; restores: SnapshotRestore[] }> {
      const [a, b] = await Promise.all([
        db.selectFrom("snapshots").selectAll().where("status", "=", "running")
          .where("heartbeat_at", "<", before).limit(200).execute(),
        db.selectFrom("snapshot_restores").selectAll().where("status", "=", "running")
          .where("heartbeat_at", "<", before).limit(200).execute(),
      ]);
      return { snapshots: a.map(snapshotOf), restores: b.map(restoreOf) };
    },
    async failStale(before: number, error: string): Promise<number> {
      const now = clock.now();
      const a = await db.updateTable("snapshots")
        .set({ status: "failed", error, finished_at: now })
        .where("status", "=", "running").where("heartbeat_at", "<", before).executeTakeFirst();
      const b = await db.updateTable("snapshot_restores")
        .set({ status: "failed", error, finished_at: now })
        .where("status", "=", "running").where("heartbeat_at", "<", before).executeTakeFirst();
      return Number(a.numUpdatedRows) + Number(b.numUpdatedRows);
    },

    // ---- schedules
    async schedules(orgId: string, volumeId?: string): Promise<SnapshotSchedule[]> {
      let q = db.selectFrom("snapshot_schedules").selectAll().where("org_id", "=", orgId);
      if (volumeId) q = q.where("volume_id", "=", volumeId);
      const rows = await q.orderBy("id").limit(MAX_PAGE).execute();
      return rows.map(scheduleOf);
    },
    async schedule(orgId: string, id: string): Promise<SnapshotSchedule | undefined> {
      const r = await db.selectFrom("snapshot_schedules").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return r ? scheduleOf(r) : undefined;
    },
    async insertSchedule(row: SnapshotSchedule): Promise<SnapshotSchedule> {
      await db.insertInto("snapshot_schedules").values(row).execute();
      return row;
    },
    async updateSchedule(
      orgId: string,
      id: string,
      changes: Partial<Omit<SnapshotSchedule, "id" | "org_id" | "created_at" | "created_by">>,
    ): Promise<SnapshotSchedule | undefined> {
      await db.updateTable("snapshot_schedules").set({ ...changes, updated_at: clock.now() })
        .where("org_id", "=", orgId).where("id", "=", id).execute();
      return await this.schedule(orgId, id);
    },
    async removeSchedule(orgId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom("snapshot_schedules").where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** Enabled schedules due at `now` (every org). */
    async dueSchedules(now: number): Promise<SnapshotSchedule[]> {
      const rows = await db.selectFrom("snapshot_schedules").selectAll()
        .where("enabled", "=", 1).where("next_run_at", "<=", now).orderBy("next_run_at")
        .limit(MAX_PAGE).execute();
      return rows.map(scheduleOf);
    },
    /**
     * Moves a due schedule's next run from `from` to `next`: answers false when another replica
     * moved it first (so one replica runs each occurrence).
     */
    async claimSchedule(id: string, from: number, next: number | null): Promise<boolean> {
      const r = await db.updateTable("snapshot_schedules")
        .set({ next_run_at: next, last_run_at: clock.now() })
        .where("id", "=", id).where("next_run_at", "=", from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    // ---- restores
    async insertRestore(row: SnapshotRestore): Promise<SnapshotRestore> {
      await db.insertInto("snapshot_restores").values(row).execute();
      return row;
    },
    async restore(orgId: string, id: string): Promise<SnapshotRestore | undefined> {
      const r = await db.selectFrom("snapshot_restores").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return r ? restoreOf(r) : undefined;
    },
    async restores(
      orgId: string,
      f: { snapshot_id?: string; host_id?: string; before?: string; limit?: number } = {},
    ): Promise<SnapshotRestore[]> {
      let q = db.selectFrom("snapshot_restores").selectAll().where("org_id", "=", orgId);
      if (f.snapshot_id) q = q.where("snapshot_id", "=", f.snapshot_id);
      if (f.host_id) q = q.where("host_id", "=", f.host_id);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(page(f.limit)).execute();
      return rows.map(restoreOf);
    },
    /** The volumes of a host that a restore into them (same or on start) is replacing now. */
    async volumesBeingReplaced(orgId: string, hostId: string): Promise<Set<string>> {
      const rows = await db.selectFrom("snapshot_restores").select("volume")
        .where("org_id", "=", orgId).where("host_id", "=", hostId)
        .where("status", "=", "running").where("kind", "in", ["same", "start"]).execute();
      return new Set(rows.map((r) => r.volume));
    },
    async updateRestore(
      id: string,
      changes: Partial<Omit<SnapshotRestore, "id" | "org_id">>,
    ): Promise<void> {
      await db.updateTable("snapshot_restores").set(changes).where("id", "=", id).execute();
    },
  };
}

export type SnapshotStore = ReturnType<typeof createSnapshotStore>;
