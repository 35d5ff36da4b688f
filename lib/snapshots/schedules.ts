/**
 * Snapshot schedules: a volume on a host snapshotted on a five-field cron in the user's time
 * zone, each schedule with its retention (keep last N, daily D, weekly W, monthly M, applied with
 * `restic forget --prune` once a scheduled snapshot is complete). A retention is required:
 * snapshots that pile up without end are not a default anyone chose.
 *
 * The `snapshot_schedules` job runs every minute. Each due schedule is claimed with a
 * compare-and-set of its next run (so one hub replica runs each occurrence) and its next run is
 * computed from now, not from the missed time: a hub that was down over several occurrences runs
 * one snapshot when it is back, not one per occurrence missed.
 */
import { z } from "zod";
import { type ActionContext, type AuditLog, SYSTEM } from "../audit/service.ts";
import { Conflict, invalidFields, invalidInput, NotFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { volumeName } from "../docker/validate.ts";
import { Cron, nextRun, TimeZone } from "./cron.ts";
import type { Snapshot, SnapshotSchedule, SnapshotStore, SnapshotVolume } from "./store.ts";

/** A retention policy (restic's --keep-*). */
export interface Keep {
  last?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
}

/** What schedules need of the snapshot runs (lib/snapshots/runs.ts). */
export interface ScheduleRuns {
  start(
    ctx: ActionContext,
    orgId: string,
    req: {
      host_id: string;
      volume: string;
      target_id?: string;
      trigger: "schedule";
      schedule_id: string;
    },
  ): Promise<{ snapshot: Snapshot; done: Promise<Snapshot> }>;
  applyRetention(
    orgId: string,
    volumeId: string,
    keep: Keep,
    opts?: { dryRun?: boolean },
  ): Promise<{ removed: string[]; kept: string[] }>;
}

/** Schedules one volume may have. */
export const MAX_SCHEDULES_PER_VOLUME = 10;

const KeepCount = z.number().int().min(1).max(100_000);
const KEEP_FIELDS = ["keep_last", "keep_daily", "keep_weekly", "keep_monthly"] as const;
const NO_KEEP =
  "give at least one of keep_last, keep_daily, keep_weekly, keep_monthly: without a retention snapshots pile up without end";

const VolumeName = z.string().superRefine((v, ctx) => {
  try {
    volumeName(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
  }
});

/** A new schedule as the API takes it. */
export const ScheduleInput = z.object({
  host_id: z.string().min(1).max(64),
  volume: VolumeName,
  cron: Cron,
  timezone: TimeZone.default("UTC"),
  keep_last: KeepCount.optional(),
  keep_daily: KeepCount.optional(),
  keep_weekly: KeepCount.optional(),
  keep_monthly: KeepCount.optional(),
  enabled: z.boolean().default(true),
}).strict();
export type ScheduleInput = z.input<typeof ScheduleInput>;

/** A change to a schedule; a keep set to null is dropped (one must remain). */
export const SchedulePatch = z.object({
  cron: Cron.optional(),
  timezone: TimeZone.optional(),
  keep_last: KeepCount.nullable().optional(),
  keep_daily: KeepCount.nullable().optional(),
  keep_weekly: KeepCount.nullable().optional(),
  keep_monthly: KeepCount.nullable().optional(),
  enabled: z.boolean().optional(),
}).strict();
export type SchedulePatch = z.input<typeof SchedulePatch>;

/** A schedule as it is answered: with its volume and when it runs next. */
export type ScheduleView = Omit<SnapshotSchedule, "org_id" | "enabled" | "created_by"> & {
  host_id: string;
  volume: string;
  enabled: boolean;
};

function viewOf(s: SnapshotSchedule, v: Pick<SnapshotVolume, "host_id" | "volume">): ScheduleView {
  return {
    id: s.id,
    volume_id: s.volume_id,
    host_id: v.host_id,
    volume: v.volume,
    cron: s.cron,
    timezone: s.timezone,
    keep_last: s.keep_last,
    keep_daily: s.keep_daily,
    keep_weekly: s.keep_weekly,
    keep_monthly: s.keep_monthly,
    enabled: s.enabled === 1,
    next_run_at: s.next_run_at,
    last_run_at: s.last_run_at,
    last_snapshot_id: s.last_snapshot_id,
    last_error: s.last_error,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}

/** The retention of a schedule as restic's policy. */
export function keepOf(s: Pick<SnapshotSchedule, (typeof KEEP_FIELDS)[number]>): Keep {
  const keep: Keep = {};
  if (s.keep_last) keep.last = s.keep_last;
  if (s.keep_daily) keep.daily = s.keep_daily;
  if (s.keep_weekly) keep.weekly = s.keep_weekly;
  if (s.keep_monthly) keep.monthly = s.keep_monthly;
  return keep;
}

export interface ScheduleDeps {
  store: SnapshotStore;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** The org's host (NotFound for another org's or an unknown one). */
  host(orgId: string, hostId: string): Promise<unknown>;
  /** The snapshot runs (resolved late: the module builds them beside the schedules). */
  runs: () => ScheduleRuns;
}

export function createSchedules(deps: ScheduleDeps) {
  const { store, audit, clock, log } = deps;

  async function mustGet(orgId: string, id: string) {
    const s = await store.schedule(orgId, id);
    const v = s && await store.volume(orgId, s.volume_id);
    if (!s || !v) throw new NotFound(`No snapshot schedule ${id}`);
    return { s, v };
  }

  async function audited<T>(
    ctx: ActionContext,
    orgId: string,
    action: string,
    id: string,
    body: () => Promise<T>,
    metadata: Record<string, unknown> = {},
  ): Promise<T> {
    const started = clock.now();
    const entry = { ctx, orgId, action, target: { type: "snapshot_schedule", id }, metadata };
    try {
      const out = await body();
      await audit.record({ ...entry, status: "ok", durationMs: clock.now() - started });
      return out;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await audit.record({ ...entry, status: "error", error, durationMs: clock.now() - started });
      throw err;
    }
  }

  /** Runs one claimed occurrence; resolves once its snapshot (and retention) ended. */
  async function runOne(s: SnapshotSchedule): Promise<void> {
    const record = (changes: Partial<SnapshotSchedule>) =>
      store.updateSchedule(s.org_id, s.id, changes).catch((err) =>
        log.error("snapshot schedule: cannot record its outcome", {
          scheduleId: s.id,
          error: String(err),
        })
      );
    try {
      const v = await store.volume(s.org_id, s.volume_id);
      if (!v) throw new Error("Its volume is no longer known");
      const { done } = await deps.runs().start(SYSTEM, s.org_id, {
        host_id: v.host_id,
        volume: v.volume,
        ...(v.target_id ? { target_id: v.target_id } : {}),
        trigger: "schedule",
        schedule_id: s.id,
      });
      const snap = await done;
      if (snap.status !== "complete") {
        await record({ last_error: snap.error ?? "The snapshot failed" });
        return;
      }
      try {
        await deps.runs().applyRetention(s.org_id, v.id, keepOf(s));
        await record({ last_snapshot_id: snap.id, last_error: null });
      } catch (err) {
        await record({
          last_snapshot_id: snap.id,
          last_error: `Retention failed: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    } catch (err) {
      await record({ last_error: err instanceof Error ? err.message : String(err) });
    }
  }

  return {
    async list(orgId: string, opts: { volume_id?: string } = {}): Promise<ScheduleView[]> {
      const [rows, volumes] = await Promise.all([
        store.schedules(orgId, opts.volume_id),
        store.volumes(orgId),
      ]);
      const byId = new Map(volumes.map((v) => [v.id, v]));
      return rows.flatMap((s) => {
        const v = byId.get(s.volume_id);
        return v ? [viewOf(s, v)] : [];
      });
    },

    async get(orgId: string, id: string): Promise<ScheduleView> {
      const { s, v } = await mustGet(orgId, id);
      return viewOf(s, v);
    },

    async create(ctx: ActionContext, orgId: string, raw: unknown): Promise<ScheduleView> {
      const parsed = ScheduleInput.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error);
      const input = parsed.data;
      if (!KEEP_FIELDS.some((k) => input[k] !== undefined)) {
        throw invalidFields({ keep_last: NO_KEEP });
      }
      try {
        await deps.host(orgId, input.host_id);
      } catch (err) {
        if (err instanceof NotFound) {
          throw invalidFields({ host_id: "is not a host of this organization" });
        }
        throw err;
      }
      const now = clock.now();
      const id = uuidv7(now);
      return await audited(ctx, orgId, "snapshot_schedule.created", id, async () => {
        const v = await store.ensureVolume(orgId, input.host_id, input.volume);
        if ((await store.schedules(orgId, v.id)).length >= MAX_SCHEDULES_PER_VOLUME) {
          throw new Conflict(
            `Volume "${v.volume}" has ${MAX_SCHEDULES_PER_VOLUME} schedules already`,
          );
        }
        const row: SnapshotSchedule = {
          id,
          org_id: orgId,
          volume_id: v.id,
          cron: input.cron,
          timezone: input.timezone,
          keep_last: input.keep_last ?? null,
          keep_daily: input.keep_daily ?? null,
          keep_weekly: input.keep_weekly ?? null,
          keep_monthly: input.keep_monthly ?? null,
          enabled: input.enabled ? 1 : 0,
          next_run_at: input.enabled ? nextRun(input.cron, input.timezone, now) : null,
          last_run_at: null,
          last_snapshot_id: null,
          last_error: null,
          created_by: ctx.actor.id ?? null,
          created_at: now,
          updated_at: now,
        };
        await store.insertSchedule(row);
        return viewOf(row, v);
      }, { host_id: input.host_id, volume: input.volume, cron: input.cron });
    },

    async update(
      ctx: ActionContext,
      orgId: string,
      id: string,
      raw: unknown,
    ): Promise<ScheduleView> {
      const parsed = SchedulePatch.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error);
      const patch = parsed.data;
      const { s, v } = await mustGet(orgId, id);
      const merged = { ...s };
      for (const k of KEEP_FIELDS) if (patch[k] !== undefined) merged[k] = patch[k];
      if (!KEEP_FIELDS.some((k) => merged[k] !== null)) {
        throw invalidFields({ [KEEP_FIELDS.find((k) => k in patch) ?? "keep_last"]: NO_KEEP });
      }
      const cron = patch.cron ?? s.cron;
      const timezone = patch.timezone ?? s.timezone;
      const enabled = patch.enabled ?? s.enabled === 1;
      const timing = patch.cron !== undefined || patch.timezone !== undefined ||
        patch.enabled !== undefined;
      return await audited(ctx, orgId, "snapshot_schedule.updated", id, async () => {
        const row = await store.updateSchedule(orgId, id, {
          cron,
          timezone,
          keep_last: merged.keep_last,
          keep_daily: merged.keep_daily,
          keep_weekly: merged.keep_weekly,
          keep_monthly: merged.keep_monthly,
          enabled: enabled ? 1 : 0,
          // A new time (or a schedule turned back on) counts from now: nothing missed is run.
          ...(timing ? { next_run_at: enabled ? nextRun(cron, timezone, clock.now()) : null } : {}),
        });
        return viewOf(row!, v);
      }, { changed: Object.keys(patch) });
    },

    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      await mustGet(orgId, id);
      await audited(ctx, orgId, "snapshot_schedule.deleted", id, async () => {
        await store.removeSchedule(orgId, id);
      });
    },

    /**
     * Starts the snapshot of every due schedule this replica claims. `done` resolves once each
     * started one ended and its retention ran (the job does not wait; tests do).
     */
    async runDue(): Promise<{ started: number; done: Promise<void> }> {
      const now = clock.now();
      const runs: Promise<void>[] = [];
      for (const s of await store.dueSchedules(now)) {
        const next = nextRun(s.cron, s.timezone, now);
        if (!await store.claimSchedule(s.id, s.next_run_at!, next)) continue;
        runs.push(runOne(s));
      }
      return { started: runs.length, done: Promise.all(runs).then(() => {}) };
    },
  };
}

export type Schedules = ReturnType<typeof createSchedules>;
