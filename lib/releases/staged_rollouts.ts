/**
 * Staged rollouts of ready releases: at most one active at a time, reaching a stable share of the
 * fleet (rollout.ts has the rules), answering each host's "what should I run", and halted by the
 * update outcomes agents report once failures pass the rollout's limits.
 */
import type { AgentRolloutsTable } from "../db/schema.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { ActionContext } from "../audit/service.ts";
import type { OutcomeReport } from "../protocol/release.ts";
import { fileFor, parseManifest } from "../release_format/manifest.ts";
import { haltReason, reaches } from "./rollout.ts";
import { noRelease, releaseByVersion, type ReleasesDeps } from "./files.ts";

const SYSTEM: ActionContext = { actor: { type: "system", name: "rollout" }, ip: null };

/** A staged rollout as the API shows it, with its progress. */
export interface RolloutView {
  id: string;
  version: string;
  percent: number;
  label: string | null;
  pinned: boolean;
  max_failures: number;
  max_failure_percent: number;
  status: AgentRolloutsTable["status"];
  halted_reason: string | null;
  created_at: number;
  succeeded: number;
  failed: number;
}

/** Input of a new rollout. */
export interface RolloutInput {
  percent: number;
  label?: string | null;
  pinned?: boolean;
  max_failures?: number;
  max_failure_percent?: number;
}

/** Rollouts and update outcomes; see the module comment. */
export function createStagedRollouts(deps: Pick<ReleasesDeps, "db" | "clock" | "audit">) {
  const { db, clock, audit } = deps;

  /** Hosts an active rollout can reach: enrolled, not removed, not the hub's embedded agent. */
  async function fleet() {
    const rows = await db.selectFrom("hosts").select(["id", "labels", "org_id"])
      .where("removed_at", "is", null).where("local", "=", 0).where("token_hash", "is not", null)
      .execute();
    return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as Record<string, string> }));
  }

  async function progress(rolloutId: string) {
    const rows = await db.selectFrom("agent_update_outcomes").select(["host_id", "outcome", "at"])
      .where("rollout_id", "=", rolloutId).orderBy("at", "asc").execute();
    // Each host counts once, by its latest outcome.
    const latest = new Map<string, string>();
    for (const r of rows) latest.set(r.host_id, r.outcome);
    let succeeded = 0;
    let failed = 0;
    for (const o of latest.values()) o === "succeeded" ? succeeded++ : failed++;
    return { succeeded, failed };
  }

  async function rolloutById(id: string) {
    const r = await db.selectFrom("agent_rollouts").selectAll().where("id", "=", id)
      .executeTakeFirst();
    if (!r) throw new NotFound("rollout not found");
    return r;
  }

  const self = {
    /** A rollout row as the API shows it, with its progress (`version` saves a look-up). */
    async view(r: AgentRolloutsTable, version?: string): Promise<RolloutView> {
      const v = version ??
        (await db.selectFrom("agent_releases").select("version").where("id", "=", r.release_id)
          .executeTakeFirstOrThrow()).version;
      return {
        id: r.id,
        version: v,
        percent: r.percent,
        label: r.label,
        pinned: Boolean(r.pinned),
        max_failures: r.max_failures,
        max_failure_percent: r.max_failure_percent,
        status: r.status,
        halted_reason: r.halted_reason,
        created_at: r.created_at,
        ...await progress(r.id),
      };
    },

    /** Starts a rollout of a ready release; an active rollout of another release is superseded. */
    async startRollout(ctx: ActionContext, version: string, input: RolloutInput) {
      return await audit.run(ctx, "agent_rollout.started", {
        target: { type: "agent_release", name: version },
        metadata: { ...input },
      }, async () => {
        const rel = await releaseByVersion(db, version);
        if (!rel || rel.status !== "ready") throw noRelease(version);
        const now = clock.now();
        await db.updateTable("agent_rollouts").set({ status: "superseded", updated_at: now })
          .where("status", "=", "active").execute();
        const row: AgentRolloutsTable = {
          id: uuidv7(now),
          release_id: rel.id,
          percent: input.percent,
          label: input.label ?? null,
          pinned: input.pinned ? 1 : 0,
          max_failures: input.max_failures ?? 2,
          max_failure_percent: input.max_failure_percent ?? 25,
          status: "active",
          halted_reason: null,
          created_by: ctx.actor.id ?? ctx.actor.name ?? null,
          created_at: now,
          updated_at: now,
        };
        await db.insertInto("agent_rollouts").values(row).execute();
        return await self.view(row, version);
      });
    },

    /** Changes a rollout's reach (widen a stage) or state (halt, resume). */
    async changeRollout(
      ctx: ActionContext,
      id: string,
      change: { percent?: number; status?: "active" | "halted" },
    ) {
      return await audit.run(ctx, "agent_rollout.changed", {
        target: { type: "agent_rollout", id },
        metadata: { ...change },
      }, async () => {
        const r = await rolloutById(id);
        if (r.status === "superseded") {
          throw new Conflict("Cannot change a superseded rollout; start a new one");
        }
        const now = clock.now();
        if (change.status === "active" && r.status !== "active") {
          await db.updateTable("agent_rollouts").set({ status: "superseded", updated_at: now })
            .where("status", "=", "active").execute();
        }
        await db.updateTable("agent_rollouts").set({
          percent: change.percent ?? r.percent,
          status: change.status ?? r.status,
          halted_reason: change.status === "halted"
            ? "halted by an admin"
            : change.status === "active"
            ? null
            : r.halted_reason,
          updated_at: now,
        }).where("id", "=", id).execute();
        return await self.view(await rolloutById(id));
      });
    },

    /** The release a host should run (the active rollout, when it reaches the host), or null. */
    async currentFor(host: { id: string; labels: Record<string, string> }, arch: string) {
      const r = await db.selectFrom("agent_rollouts").selectAll().where("status", "=", "active")
        .orderBy("created_at", "desc").executeTakeFirst();
      if (!r || !await reaches(r, host)) return null;
      const rel = await db.selectFrom("agent_releases").selectAll().where("id", "=", r.release_id)
        .executeTakeFirst();
      if (!rel || rel.status !== "ready" || !fileFor(parseManifest(rel.manifest), arch)) {
        return null;
      }
      return {
        version: rel.version,
        manifest: rel.manifest,
        signature: rel.signature,
        pinned: Boolean(r.pinned),
        rollout_id: r.id,
      };
    },

    /**
     * The newest release an unenrolled machine installs: that of the active rollout reaching all
     * hosts (100 %, no label), or of a halted one's predecessor never; null when none.
     */
    async forInstall(arch: string) {
      const r = await db.selectFrom("agent_rollouts").selectAll().where("status", "=", "active")
        .where("percent", "=", 100).where("label", "is", null).orderBy("created_at", "desc")
        .executeTakeFirst();
      if (!r) return null;
      const rel = await db.selectFrom("agent_releases").selectAll().where("id", "=", r.release_id)
        .executeTakeFirst();
      const file = rel && rel.status === "ready"
        ? fileFor(parseManifest(rel.manifest), arch)
        : undefined;
      return rel && file ? { version: rel.version, file } : null;
    },

    /** Records an agent's update outcome; halts its rollout when failures exceed the limits. */
    async recordOutcome(
      host: { id: string; org_id: string; name: string },
      report: OutcomeReport,
    ) {
      const now = clock.now();
      const rollout = report.rollout_id
        ? await db.selectFrom("agent_rollouts").selectAll().where("id", "=", report.rollout_id)
          .executeTakeFirst()
        : undefined;
      await audit.run(
        { actor: { type: "anonymous", name: `agent of ${host.name}` }, ip: null },
        "host.agent_update",
        {
          orgId: host.org_id,
          target: { type: "host", id: host.id, name: host.name },
          metadata: {
            outcome: report.outcome,
            from: report.from_version,
            to: report.to_version,
            message: report.message,
          },
        },
        async () => {
          await db.insertInto("agent_update_outcomes").values({
            id: uuidv7(now),
            host_id: host.id,
            rollout_id: rollout?.id ?? null,
            from_version: report.from_version,
            to_version: report.to_version,
            outcome: report.outcome,
            message: report.message,
            at: now,
          }).execute();
        },
      );
      if (!rollout || rollout.status !== "active") return { halted: false };
      const { failed } = await progress(rollout.id);
      let reached = 0;
      for (const h of await fleet()) if (await reaches(rollout, h)) reached++;
      const why = haltReason(rollout, failed, reached);
      if (!why) return { halted: false };
      await audit.run(SYSTEM, "agent_rollout.halted", {
        target: { type: "agent_rollout", id: rollout.id },
        metadata: { reason: why, version: report.to_version },
      }, async () => {
        await db.updateTable("agent_rollouts").set({
          status: "halted",
          halted_reason: why,
          updated_at: now,
        }).where("id", "=", rollout.id).where("status", "=", "active").execute();
      });
      return { halted: true, reason: why };
    },

    /** A host's latest update outcomes, newest first. */
    async outcomesFor(hostId: string, limit = 5) {
      return await db.selectFrom("agent_update_outcomes").selectAll().where("host_id", "=", hostId)
        .orderBy("at", "desc").limit(limit).execute();
    },

    /** A rollout by id, as the API shows it. */
    async rollout(id: string) {
      return await self.view(await rolloutById(id));
    },
  };
  return self;
}
