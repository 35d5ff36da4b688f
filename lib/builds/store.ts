/**
 * The builds module's rows: sources, webhooks, deliveries, the build queue and logs. Claiming a
 * queued build is a compare-and-set on its state, so across hub replicas one runs it.
 */
import type { Db } from "../db/mod.ts";
import { sql, type Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { dialectOf } from "../db/dialect_of.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type {
  BuildDeliveriesTable,
  BuildHooksTable,
  BuildLogsTable,
  BuildSourcesTable,
  BuildsTable,
} from "./tables.ts";

export type BuildSource = BuildSourcesTable;
export type BuildHook = BuildHooksTable;
export type Delivery = BuildDeliveriesTable;
export type Build = BuildsTable;
export type BuildState = BuildsTable["state"];

const MAX_PAGE = 200;
const num = (v: unknown) => (v === null || v === undefined ? v : Number(v));

function buildOf(r: BuildsTable): Build {
  return {
    ...r,
    number: Number(r.number),
    cancel_requested: Number(r.cancel_requested),
    deploy: Number(r.deploy),
    size_bytes: num(r.size_bytes) as number | null,
    queued_at: Number(r.queued_at),
    started_at: num(r.started_at) as number | null,
    finished_at: num(r.finished_at) as number | null,
    heartbeat_at: num(r.heartbeat_at) as number | null,
  };
}

function sourceOf(r: BuildSourcesTable): BuildSource {
  return {
    ...r,
    auto_deploy: Number(r.auto_deploy),
    build_tags: Number(r.build_tags),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

function hookOf(r: BuildHooksTable): BuildHook {
  return {
    ...r,
    bad_count: Number(r.bad_count),
    bad_window_at: Number(r.bad_window_at),
    disabled_until: num(r.disabled_until) as number | null,
    created_at: Number(r.created_at),
    rotated_at: Number(r.rotated_at),
  };
}

/** What a new build is. */
export type NewBuild = Pick<
  Build,
  | "org_id"
  | "app_id"
  | "service"
  | "trigger"
  | "actor_id"
  | "actor_name"
  | "delivery_id"
  | "repo_url"
  | "branch"
  | "commit_sha"
  | "commit_author"
  | "commit_message"
  | "host_id"
  | "deploy"
>;

export function createBuildStore(db: Db, clock: Clock) {
  /**
   * Minutes an organization's builds ran this calendar month (UTC), each rounded up to a whole
   * minute, a running one counted to now: what its build-minutes quota judges.
   */
  async function minutesThisMonth(
    orgId: string,
    q: Db | Transaction<Database> = db,
  ): Promise<number> {
    const now = clock.now();
    const d = new Date(now);
    const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const rows = await q.selectFrom("builds").select(["started_at", "finished_at"])
      .where("org_id", "=", orgId).where("started_at", ">=", month).execute();
    let min = 0;
    for (const r of rows) {
      const ms = Number(r.finished_at ?? now) - Number(r.started_at);
      min += Math.max(1, Math.ceil(ms / 60_000));
    }
    return min;
  }

  return {
    // ---- sources
    async source(appId: string, service: string): Promise<BuildSource | undefined> {
      const r = await db.selectFrom("build_sources").selectAll().where("app_id", "=", appId)
        .where("service", "=", service).executeTakeFirst();
      return r ? sourceOf(r) : undefined;
    },
    async sources(appId: string): Promise<BuildSource[]> {
      const rows = await db.selectFrom("build_sources").selectAll().where("app_id", "=", appId)
        .orderBy("service").execute();
      return rows.map(sourceOf);
    },
    async saveSource(row: BuildSource): Promise<BuildSource> {
      const { id: _id, created_at: _c, created_by: _b, ...changes } = row;
      await db.insertInto("build_sources").values(row)
        .onConflict((oc) => oc.columns(["app_id", "service"]).doUpdateSet(changes)).execute();
      return (await this.source(row.app_id, row.service))!;
    },
    async pinHostKey(id: string, line: string, fingerprint: string): Promise<void> {
      // First use only: a key already pinned is never replaced by what a clone saw.
      await db.updateTable("build_sources")
        .set({ known_host: line, known_host_fingerprint: fingerprint, updated_at: clock.now() })
        .where("id", "=", id).where("known_host", "is", null).execute();
    },
    async removeSource(appId: string, service: string): Promise<boolean> {
      const r = await db.deleteFrom("build_sources").where("app_id", "=", appId)
        .where("service", "=", service).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    // ---- webhooks
    async hookOfApp(appId: string): Promise<BuildHook | undefined> {
      const r = await db.selectFrom("build_hooks").selectAll().where("app_id", "=", appId)
        .executeTakeFirst();
      return r ? hookOf(r) : undefined;
    },
    async hook(id: string): Promise<BuildHook | undefined> {
      const r = await db.selectFrom("build_hooks").selectAll().where("id", "=", id)
        .executeTakeFirst();
      return r ? hookOf(r) : undefined;
    },
    async saveHook(row: BuildHook): Promise<void> {
      const { id: _id, app_id: _a, org_id: _o, created_at: _c, ...changes } = row;
      await db.insertInto("build_hooks").values(row)
        .onConflict((oc) => oc.column("app_id").doUpdateSet(changes)).execute();
    },
    /**
     * Counts a bad signature in the hook's current minute; at `limit` the hook is disabled for
     * `disableMs`. Answers whether this one disabled it.
     */
    async noteBadSignature(
      hook: BuildHook,
      limit: number,
      disableMs: number,
    ): Promise<{ disabled: boolean }> {
      const now = clock.now();
      return await db.transaction().execute(async (tx) => {
        const r = await tx.selectFrom("build_hooks").selectAll().where("id", "=", hook.id)
          .executeTakeFirst();
        if (!r) return { disabled: false };
        const h = hookOf(r);
        const fresh = now - h.bad_window_at >= 60_000;
        const count = fresh ? 1 : h.bad_count + 1;
        const disable = count >= limit && (h.disabled_until === null || h.disabled_until <= now);
        await tx.updateTable("build_hooks").set({
          bad_count: disable ? 0 : count,
          bad_window_at: fresh || disable ? now : h.bad_window_at,
          ...(disable ? { disabled_until: now + disableMs } : {}),
        }).where("id", "=", hook.id).execute();
        return { disabled: disable };
      });
    },

    // ---- deliveries
    /** Records a delivery; a provider delivery id seen before answers `duplicate` instead. */
    async recordDelivery(
      d: Omit<Delivery, "id" | "at">,
    ): Promise<{ delivery: Delivery; duplicate: boolean }> {
      const row: Delivery = { id: uuidv7(clock.now()), at: clock.now(), ...d };
      try {
        await db.insertInto("build_deliveries").values(row).execute();
        return { delivery: row, duplicate: false };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const dup: Delivery = { ...row, delivery_id: null, outcome: "duplicate", build_id: null };
        dup.reason = `delivery ${d.delivery_id} was received before`;
        dup.push = null;
        await db.insertInto("build_deliveries").values(dup).execute();
        return { delivery: dup, duplicate: true };
      }
    },
    async setDeliveryOutcome(
      id: string,
      outcome: Delivery["outcome"],
      reason: string,
      buildId: string | null,
    ): Promise<void> {
      await db.updateTable("build_deliveries").set({ outcome, reason, build_id: buildId })
        .where("id", "=", id).execute();
    },
    async deliveries(appId: string, opts: { before?: string; limit: number }): Promise<Delivery[]> {
      let q = db.selectFrom("build_deliveries").selectAll().where("app_id", "=", appId);
      if (opts.before) q = q.where("id", "<", opts.before);
      const rows = await q.orderBy("id", "desc").limit(Math.min(opts.limit, MAX_PAGE)).execute();
      return rows.map((r) => ({ ...r, at: Number(r.at) }));
    },
    async delivery(appId: string, id: string): Promise<Delivery | undefined> {
      const r = await db.selectFrom("build_deliveries").selectAll().where("app_id", "=", appId)
        .where("id", "=", id).executeTakeFirst();
      return r ? { ...r, at: Number(r.at) } : undefined;
    },

    // ---- builds
    minutesThisMonth,

    /**
     * Queues a build. With `gate`, the organization's build minutes this month are admitted in
     * the transaction that inserts it (a build adds at least a minute).
     */
    async enqueue(
      b: NewBuild,
      gate?: (use: { build_minutes_month: number }, adds: { build_minutes_month: number }) => void,
    ): Promise<Build> {
      for (let attempt = 0;; attempt++) {
        const now = clock.now();
        const last = await db.selectFrom("builds").select((eb) => eb.fn.max("number").as("n"))
          .where("app_id", "=", b.app_id).executeTakeFirst();
        const row: BuildsTable = {
          id: uuidv7(now),
          number: Number(last?.n ?? 0) + 1,
          state: "queued",
          builder: null,
          plan: null,
          dockerfile: null,
          runner: null,
          cancel_requested: 0,
          image: null,
          image_id: null,
          size_bytes: null,
          failure: null,
          error: null,
          deployment_id: null,
          queued_at: now,
          started_at: null,
          finished_at: null,
          heartbeat_at: null,
          ...b,
        };
        try {
          if (gate) {
            await db.transaction().execute(async (tx) => {
              if (dialectOf(db) === "postgres") {
                await sql`select pg_advisory_xact_lock(hashtextextended(${
                  "capstan.build_quota:" + b.org_id
                }, 0))`.execute(tx);
              }
              gate({ build_minutes_month: await minutesThisMonth(b.org_id, tx) }, {
                build_minutes_month: 1,
              });
              await tx.insertInto("builds").values(row).execute();
            });
          } else await db.insertInto("builds").values(row).execute();
          return buildOf(row);
        } catch (err) {
          // Two builds of one app numbered at the same moment: take the next number.
          if (!isUniqueViolation(err) || attempt >= 5) throw err;
        }
      }
    },
    async get(id: string): Promise<Build | undefined> {
      const r = await db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirst();
      return r ? buildOf(r) : undefined;
    },
    async byNumber(appId: string, n: number): Promise<Build | undefined> {
      const r = await db.selectFrom("builds").selectAll().where("app_id", "=", appId)
        .where("number", "=", n).executeTakeFirst();
      return r ? buildOf(r) : undefined;
    },
    async list(appId: string, opts: { before?: number; limit: number }): Promise<Build[]> {
      let q = db.selectFrom("builds").selectAll().where("app_id", "=", appId);
      if (opts.before !== undefined) q = q.where("number", "<", opts.before);
      const rows = await q.orderBy("number", "desc").limit(Math.min(opts.limit, MAX_PAGE))
        .execute();
      return rows.map(buildOf);
    },
    /** Queued builds, oldest first (the dispatcher's view). */
    async queued(limit = 100): Promise<Build[]> {
      const rows = await db.selectFrom("builds").selectAll().where("state", "=", "queued")
        .orderBy("queued_at").orderBy("id").limit(limit).execute();
      return rows.map(buildOf);
    },
    /** Builds running on a worker now. */
    async runningOn(hostId: string): Promise<number> {
      const r = await db.selectFrom("builds").select((eb) => eb.fn.countAll().as("n"))
        .where("state", "=", "running").where("host_id", "=", hostId).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    /** How many builds wait before this one on its worker (0: next). */
    async position(b: Build): Promise<number> {
      // In the dispatcher's order: by time queued, then by id (uuidv7) within a millisecond.
      let q = db.selectFrom("builds").select((eb) => eb.fn.countAll().as("n"))
        .where("state", "=", "queued").where((eb) =>
          eb.or([
            eb("queued_at", "<", b.queued_at),
            eb.and([eb("queued_at", "=", b.queued_at), eb("id", "<", b.id)]),
          ])
        );
      q = b.host_id === null ? q.where("host_id", "is", null) : q.where("host_id", "=", b.host_id);
      return Number((await q.executeTakeFirst())?.n ?? 0);
    },
    /** Takes a queued build for this process; false when another took (or cancelled) it. */
    async claim(id: string, runner: string, hostId: string): Promise<boolean> {
      const now = clock.now();
      const r = await db.updateTable("builds")
        .set({ state: "running", runner, host_id: hostId, started_at: now, heartbeat_at: now })
        .where("id", "=", id).where("state", "=", "queued").executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async update(id: string, patch: Partial<Omit<Build, "id" | "number">>): Promise<void> {
      await db.updateTable("builds").set(patch).where("id", "=", id).execute();
    },
    /** Ends a running (or queued) build; false when it had already ended. */
    async finish(
      id: string,
      state: "succeeded" | "failed" | "cancelled",
      patch: Partial<Omit<Build, "id" | "number" | "state">> = {},
    ): Promise<boolean> {
      const r = await db.updateTable("builds")
        .set({ ...patch, state, finished_at: clock.now() })
        .where("id", "=", id).where("state", "in", ["queued", "running"]).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async requestCancel(id: string): Promise<void> {
      await db.updateTable("builds").set({ cancel_requested: 1 }).where("id", "=", id)
        .where("state", "in", ["queued", "running"]).execute();
    },
    /**
     * Builds that ran and ended at or after `after` (ms), oldest end first, at most `limit`: the
     * billing module records each once and prices its minutes (lib/billing/facts.ts). Builds
     * cancelled while queued never started and are not among them.
     */
    async endedSince(after: number, limit: number): Promise<
      { id: string; org_id: string; app_id: string; started_at: number; finished_at: number }[]
    > {
      const rows = await db.selectFrom("builds")
        .select(["id", "org_id", "app_id", "started_at", "finished_at"])
        .where("finished_at", ">=", after).where("started_at", "is not", null)
        .orderBy("finished_at").orderBy("id").limit(Math.min(limit, 5000)).execute();
      return rows.map((r) => ({
        id: r.id,
        org_id: r.org_id,
        app_id: r.app_id,
        started_at: Number(r.started_at),
        finished_at: Number(r.finished_at),
      }));
    },
    /** Running builds whose runner has been silent since `before` (a hub that stopped). */
    async stale(before: number): Promise<Build[]> {
      const rows = await db.selectFrom("builds").selectAll().where("state", "=", "running")
        .where("heartbeat_at", "<", before).execute();
      return rows.map(buildOf);
    },

    // ---- retention
    /**
     * Deletes deliveries older than `before` and the logs of each app's builds beyond its newest
     * `keepLogs` (the builds stay in the history, their logs go); answers what went.
     */
    async purge(before: number, keepLogs: number): Promise<{ deliveries: number; logs: number }> {
      const d = await db.deleteFrom("build_deliveries").where("at", "<", before).executeTakeFirst();
      const old = await db.selectFrom("builds as b").select("b.id")
        .where((eb) =>
          eb(
            eb.selectFrom("builds as n").select((x) => x.fn.countAll().as("c"))
              .whereRef("n.app_id", "=", "b.app_id").whereRef("n.number", ">", "b.number"),
            ">=",
            keepLogs,
          )
        ).where("b.state", "in", ["succeeded", "failed", "cancelled"]).limit(1000).execute();
      let logs = 0;
      if (old.length) {
        const r = await db.deleteFrom("build_logs").where("build_id", "in", old.map((o) => o.id))
          .executeTakeFirst();
        logs = Number(r.numDeletedRows);
      }
      return { deliveries: Number(d.numDeletedRows), logs };
    },

    // ---- logs
    async saveLog(row: BuildLogsTable): Promise<void> {
      const { build_id: _b, ...changes } = row;
      await db.insertInto("build_logs").values(row)
        .onConflict((oc) => oc.column("build_id").doUpdateSet(changes)).execute();
    },
    async log(buildId: string): Promise<BuildLogsTable | undefined> {
      const r = await db.selectFrom("build_logs").selectAll().where("build_id", "=", buildId)
        .executeTakeFirst();
      return r
        ? {
          ...r,
          raw_bytes: Number(r.raw_bytes),
          dropped_bytes: Number(r.dropped_bytes),
          updated_at: Number(r.updated_at),
        }
        : undefined;
    },
  };
}

export type BuildStore = ReturnType<typeof createBuildStore>;
