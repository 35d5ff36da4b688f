/**
 * Verification of a storage target: `restic check` of its repository (reading a subset of the
 * data packs, 10 % by default, so a weekly run reads it all over time at a bounded cost) on an
 * online agent of the org, then a test restore of the newest complete snapshot kept there into a
 * scratch volume (the runs' restore of kind "verify"). A pass earns the "verified" badge with its
 * date; any failure marks the badge failed with the reason and tells the alerts
 * (`snapshots.verify_failed`).
 *
 * Each target runs on its own `verify_cron` (UTC, weekly by default): the `snapshot_verify` job
 * picks the due ones every 5 minutes and claims each with a compare-and-set, so one replica runs
 * it; "Verify now" claims it the same way (409 while one runs).
 */
import { type ActionContext, type AuditLog, SYSTEM } from "../audit/service.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import { nextRun } from "./cron.ts";
import { agentMessage, type AgentPicker } from "./online.ts";
import type { SnapshotRestore, SnapshotStore, StorageTarget } from "./store.ts";
import { type Targets, type TargetView, viewOf } from "./targets.ts";
import type { SnapshotVerifyFailed } from "./events.ts";
import "./events.ts";

/** What verification needs of the snapshot runs (lib/snapshots/runs.ts). */
export interface VerifyRuns {
  restore(
    ctx: ActionContext,
    orgId: string,
    snapshotId: string,
    req: { kind: "verify" },
  ): Promise<{ restore: SnapshotRestore; done: Promise<SnapshotRestore> }>;
}

export interface VerifyDeps {
  store: SnapshotStore;
  targets: Pick<Targets, "open">;
  pickAgent: AgentPicker;
  runs: () => VerifyRuns;
  audit: AuditLog;
  events: EventBus;
  clock: Clock;
  log: Logger;
  repoPath: (orgId: string) => string;
  /** restic's --read-data-subset ("10%", "1/5", "500M"); undefined reads no data packs. */
  readDataSubset?: string;
}

/** How long `restic check` may take (the agent's own deadline is an hour). */
const CHECK_TIMEOUT_MS = 3_660_000;
/** A verification "running" longer than this was cut short by its hub stopping. */
const STALE_MS = 12 * 3_600_000;

/** A failure of one step, with the step named for the alert. */
class VerifyFailure extends Error {
  constructor(readonly step: SnapshotVerifyFailed["step"], message: string) {
    super(message);
  }
}

export function createVerifier(deps: VerifyDeps) {
  const { store, clock, log } = deps;

  async function steps(t: StorageTarget): Promise<void> {
    const opened = await deps.targets.open(t.org_id, t.id, deps.repoPath);
    const secrets = [
      opened.password,
      opened.target.kind === "s3" ? opened.target.secret_access_key : undefined,
      opened.target.kind === "sftp" ? opened.target.private_key : undefined,
    ];
    let agent;
    try {
      agent = (await deps.pickAgent(t.org_id)).agent;
    } catch (err) {
      throw new VerifyFailure("agent", agentMessage(err, []));
    }
    let check: { ok: boolean; errors?: string[] };
    try {
      check = await agent.call("snapshot.check", {
        target: opened.target,
        password: opened.password,
        ...(deps.readDataSubset ? { read_data_subset: deps.readDataSubset } : {}),
      }, CHECK_TIMEOUT_MS);
    } catch (err) {
      throw new VerifyFailure("check", agentMessage(err, secrets));
    }
    if (!check.ok) {
      const errors = (check.errors ?? []).slice(0, 5).join("; ");
      throw new VerifyFailure(
        "check",
        agentMessage(`restic check found errors${errors ? `: ${errors}` : ""}`, secrets),
      );
    }
    const [newest] = await store.snapshots(t.org_id, {
      target_id: t.id,
      status: "complete",
      limit: 1,
    });
    if (!newest) return;
    try {
      const { done } = await deps.runs().restore(SYSTEM, t.org_id, newest.id, { kind: "verify" });
      const r = await done;
      if (r.status !== "complete") {
        throw new Error(r.error ?? "The test restore failed");
      }
    } catch (err) {
      throw new VerifyFailure(
        "restore",
        `Test restore of snapshot ${newest.id}: ${agentMessage(err, secrets)}`,
      );
    }
  }

  /** Runs a claimed verification to its end and records it; answers the target after. */
  async function run(t: StorageTarget, ctx: ActionContext): Promise<TargetView> {
    const started = clock.now();
    let failure: VerifyFailure | undefined;
    try {
      await steps(t);
    } catch (err) {
      failure = err instanceof VerifyFailure
        ? err
        : new VerifyFailure("agent", err instanceof Error ? err.message : String(err));
    }
    const now = clock.now();
    await store.updateTarget(
      t.org_id,
      t.id,
      failure
        ? { verify_status: "failed", verify_error: failure.message.slice(0, 2000) }
        : { verify_status: "ok", verify_error: null, verified_at: now },
    );
    await deps.audit.record({
      ctx,
      orgId: t.org_id,
      action: "storage_target.verified",
      target: { type: "storage_target", id: t.id, name: t.name },
      status: failure ? "error" : "ok",
      error: failure?.message ?? null,
      durationMs: now - started,
      metadata: failure ? { step: failure.step } : {},
    }).catch((err) => log.error("verify: audit failed", { error: String(err) }));
    if (failure) {
      deps.events.emit("snapshots.verify_failed", {
        org_id: t.org_id,
        target: { id: t.id, name: t.name },
        step: failure.step,
        error: failure.message.slice(0, 2000),
        at: now,
      });
    }
    const row = await store.target(t.org_id, t.id);
    return viewOf(row ?? t);
  }

  /** `run`, never rejecting (a record that cannot be written is logged). */
  const settle = (t: StorageTarget, ctx: ActionContext) =>
    run(t, ctx).catch((err) => {
      log.error("verify: cannot record the outcome", { targetId: t.id, error: String(err) });
      return viewOf(t);
    });

  return {
    /**
     * Verifies target `id` now (409 while a verification of it runs); `done` answers the target
     * once it ended.
     */
    async verifyNow(
      ctx: ActionContext,
      orgId: string,
      id: string,
    ): Promise<{ target: TargetView; done: Promise<TargetView> }> {
      const t = await store.target(orgId, id);
      if (!t) throw new NotFound(`No storage target ${id}`);
      if (!await store.claimVerify(t.id, t.verify_next_at)) {
        throw new Conflict(`A verification of target "${t.name}" is running`);
      }
      const running = (await store.target(orgId, id))!;
      return { target: viewOf(running), done: settle(running, ctx) };
    },

    /** The job: starts every due verification this replica claims (`done` for tests). */
    async runDue(): Promise<{ started: number; done: Promise<void> }> {
      const now = clock.now();
      await store.failStaleVerify(now - STALE_MS, "The verification was interrupted (hub stopped)");
      const runs: Promise<unknown>[] = [];
      for (const t of await store.targetsToVerify(now)) {
        const next = nextRun(t.verify_cron, "UTC", now);
        if (!await store.claimVerify(t.id, next, t.verify_next_at!)) continue;
        runs.push(settle(t, SYSTEM));
      }
      return { started: runs.length, done: Promise.all(runs).then(() => {}) };
    },
  };
}

export type Verifier = ReturnType<typeof createVerifier>;
