/**
 * Quotas while running (issue 21, lib/quotas/QUOTAS.md "While running"): every 30 s the
 * `quotas_usage` job recalculates each organization's use of every limited resource from what is
 * recorded (the usage sources: the apps' saved specs, what Swarm runs as billing observes it, this
 * month's builds, billing's storage and egress facts; the larger of two for one resource) and
 * stores it in `quota_usage` with a level:
 *
 *   ok < 80 % ≤ warning < 90 % ≤ critical < 100 % ≤ full ≤ limit < over
 *
 * A level is entered as soon as its threshold is reached and left only when use drops 5 points
 * below it (over: as soon as use fits the limit again), so a figure hovering at a threshold is told
 * once. Each change is a conditional write on the row (where the level and `since` are the ones
 * read): of two hub replicas exactly one makes it, and only it emits `quotas.usage` (the alerts
 * module's `quota_usage` notices) and audits.
 *
 * Over (a violation, e.g. a limit lowered below what runs) starts a grace period
 * (CAPSTAN_QUOTA_GRACE_HOURS, default 72); once it ends new deploys are blocked through
 * admission's blocker until the use fits the limit again. Stopping apps instead is not built.
 */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { EventBus } from "../events.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Amounts, Limits, Resource } from "./resources.ts";
import { formatAmount, RESOURCE_INFO, RESOURCES } from "./resources.ts";
import type { QuotaLevel, QuotaNotice } from "./events.ts";
import type { QuotaUsageTable } from "./tables.ts";

export type { QuotaLevel, QuotaNotice } from "./events.ts";

/** Levels from lowest to highest. */
export const LEVELS: readonly QuotaLevel[] = ["ok", "warning", "critical", "full", "over"];

/** Percentage at which a level is entered (over: use above the limit, not a percentage). */
const ENTER: Record<Exclude<QuotaLevel, "ok" | "over">, number> = {
  warning: 80,
  critical: 90,
  full: 100,
};

/** Points below its threshold use must drop for a level to clear. */
export const HYSTERESIS_PCT = 5;

/** Highest percentage stored (the column is an integer; far above a limit is just "over"). */
const MAX_PCT = 1_000_000;

/** Use as a whole percentage of a limit (a limit of 0 with nothing used is 0 %). */
export function pctOf(used: number, limit: number): number {
  if (limit === 0) return used > 0 ? 100 : 0;
  return Math.min(MAX_PCT, Math.floor((used * 100) / limit));
}

const rank = (l: QuotaLevel) => LEVELS.indexOf(l);

/** The level the figures alone put use at (no hysteresis). */
export function rawLevel(used: number, limit: number): QuotaLevel {
  if (used > limit) return "over";
  const p = pctOf(used, limit);
  return p >= ENTER.full
    ? "full"
    : p >= ENTER.critical
    ? "critical"
    : p >= ENTER.warning
    ? "warning"
    : "ok";
}

/**
 * The level after `prev` given the figures now: up at once to what they reach; down one level at
 * a time, each only once use is HYSTERESIS_PCT points below that level's threshold.
 */
export function nextLevel(prev: QuotaLevel, used: number, limit: number): QuotaLevel {
  const raw = rawLevel(used, limit);
  if (rank(raw) >= rank(prev)) return raw;
  const p = pctOf(used, limit);
  let cur = prev;
  while (rank(cur) > rank(raw)) {
    const clears = cur === "over" ? used <= limit : p < ENTER[cur as keyof typeof ENTER] -
        HYSTERESIS_PCT;
    if (!clears) break;
    cur = LEVELS[rank(cur) - 1];
  }
  return cur;
}

/** One resource's stored standing, as the quota page shows it. */
export interface UsageStanding {
  resource: Resource;
  used: number;
  limit: number | null;
  pct: number | null;
  level: QuotaLevel;
  since: number;
  grace_ends_at: number | null;
  /** The grace period ended: deploys are blocked until the use fits the limit. */
  blocked: boolean;
  updated_at: number;
}

export interface WatchDeps {
  db: Db;
  clock: Clock;
  events: EventBus;
  audit: Pick<AuditLog, "record">;
  /** The limits in force and the use now (the quotas service). */
  limits(orgId: string): Promise<Limits>;
  used(orgId: string): Promise<Amounts>;
  /** A violation's grace period, ms (0: blocked as soon as use passes the limit). */
  graceMs: number;
}

/** Hours of quota history kept (90 days); older ones are pruned by the job. */
export const HISTORY_KEEP_MS = 90 * 24 * 3_600_000;
const HOUR = 3_600_000;

/** One hour of a resource's history: the most used in it and the limit then. */
export interface HistoryPoint {
  hour: number;
  max_used: number;
  limit: number | null;
}

/** Organizations checked per run (the job runs every 30 s; the rest wait for the next). */
const MAX_ORGS = 1000;

const num = (v: unknown) => v === null || v === undefined ? null : Number(v);

const isResource = (r: string): r is Resource => (RESOURCES as readonly string[]).includes(r);

const standingOf = (r: QuotaUsageTable): UsageStanding => ({
  resource: r.resource as Resource,
  used: Number(r.used),
  limit: num(r.limit_value),
  pct: num(r.pct),
  level: r.level as QuotaLevel,
  since: Number(r.since),
  grace_ends_at: num(r.grace_ends_at),
  blocked: Number(r.blocked) === 1,
  updated_at: Number(r.updated_at),
});

/** Creates the running-quota watch (the job, the standings, the blocker). */
export function createQuotaWatch(deps: WatchDeps) {
  const { db, clock, events, audit, graceMs } = deps;

  /** Audits a violation's start, end or block (this replica made it), and tells every change. */
  const made = async (n: QuotaNotice) => {
    const action = n.change === "blocked"
      ? "quota.deploys_blocked"
      : n.to === "over"
      ? "quota.violation_started"
      : n.from === "over"
      ? "quota.violation_ended"
      : null;
    if (action) {
      await audit.record({
        ctx: { actor: { type: "system", id: "quotas", name: "quotas" } },
        orgId: n.org_id,
        action,
        target: { type: "quota", name: n.resource },
        status: "ok",
        durationMs: 0,
        metadata: {
          used: n.used,
          limit: n.limit,
          since: n.since,
          grace_ends_at: n.grace_ends_at,
        },
      });
    }
    events.emit("quotas.usage", n);
  };

  /**
   * Records `used` in the hour's history row: one row per org, resource and hour, written only
   * when the figure grows past the hour's maximum or the limit changes (most runs write nothing).
   */
  async function record(
    orgId: string,
    resource: Resource,
    used: number,
    limit: number | null,
    now: number,
  ) {
    const hour = Math.floor(now / HOUR) * HOUR;
    await db.insertInto("quota_history")
      .values({ org_id: orgId, resource, hour, max_used: used, limit_value: limit })
      .onConflict((oc) =>
        oc.columns(["org_id", "resource", "hour"]).doUpdateSet({
          max_used:
            sql`case when quota_history.max_used < excluded.max_used then excluded.max_used else quota_history.max_used end`,
          limit_value: sql`excluded.limit_value`,
        }).where(
          sql<
            boolean
          >`quota_history.max_used < excluded.max_used or coalesce(quota_history.limit_value, -1) <> coalesce(excluded.limit_value, -1)`,
        )
      ).execute();
  }

  /** When this process last pruned the history (at most once an hour). */
  let prunedAt = 0;

  async function rowsOf(orgId: string): Promise<Map<Resource, UsageStanding>> {
    const rows = await db.selectFrom("quota_usage").selectAll().where("org_id", "=", orgId)
      .execute();
    return new Map(
      rows.filter((r) => isResource(r.resource)).map((r) => {
        const s = standingOf(r);
        return [s.resource, s];
      }),
    );
  }

  /** Blocks a violation whose grace period ended, once (conditional on the row still being it). */
  async function block(
    orgId: string,
    s: UsageStanding,
    now: number,
  ): Promise<QuotaNotice | undefined> {
    const r = await db.updateTable("quota_usage").set({ blocked: 1, updated_at: now })
      .where("org_id", "=", orgId).where("resource", "=", s.resource)
      .where("level", "=", "over").where("since", "=", s.since).where("blocked", "=", 0)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    const n: QuotaNotice = {
      org_id: orgId,
      resource: s.resource,
      change: "blocked",
      from: "over",
      to: "over",
      used: s.used,
      limit: s.limit,
      pct: s.pct,
      since: s.since,
      grace_ends_at: s.grace_ends_at,
    };
    await made(n);
    return n;
  }

  /**
   * Recalculates one organization's use of every limited, measured resource and makes the level
   * changes it calls for. Returns the notices this call made (another replica's are not in it).
   */
  async function check(orgId: string): Promise<QuotaNotice[]> {
    const [limits, rows] = await Promise.all([deps.limits(orgId), rowsOf(orgId)]);
    const done: QuotaNotice[] = [];
    // Nothing limited and nothing stored: no need to count the org's use.
    if (!Object.keys(limits).length && !rows.size) return done;
    const used = await deps.used(orgId);
    const now = clock.now();
    for (const resource of RESOURCES) {
      const u = used[resource];
      // A resource no usage source measures has nothing to compare.
      if (u === undefined) continue;
      const limit = limits[resource] ?? null;
      const row = rows.get(resource);
      if (!row && limit === null) continue;
      await record(orgId, resource, u, limit, now);
      const prev = row?.level ?? "ok";
      const level = limit === null ? "ok" : nextLevel(prev, u, limit);
      const pct = limit === null ? null : pctOf(u, limit);
      const figures = { used: u, limit_value: limit, pct, updated_at: now };
      const notice = (since: number, grace: number | null): QuotaNotice => ({
        org_id: orgId,
        resource,
        change: "level",
        from: prev,
        to: level,
        used: u,
        limit,
        pct,
        since,
        grace_ends_at: grace,
      });
      const grace = level === "over" ? now + graceMs : null;
      if (!row) {
        const r = await db.insertInto("quota_usage").values({
          org_id: orgId,
          resource,
          ...figures,
          level,
          since: now,
          grace_ends_at: grace,
          blocked: 0,
        }).onConflict((oc) => oc.columns(["org_id", "resource"]).doNothing()).executeTakeFirst();
        // Another replica stored it first: that one tells the level.
        if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1 || level === "ok") continue;
        done.push(notice(now, grace));
        await made(done.at(-1)!);
      } else if (level === prev) {
        // The figures move; the level and its `since` stay.
        await db.updateTable("quota_usage").set(figures).where("org_id", "=", orgId)
          .where("resource", "=", resource).execute();
      } else {
        const r = await db.updateTable("quota_usage")
          .set({ ...figures, level, since: now, grace_ends_at: grace, blocked: 0 })
          .where("org_id", "=", orgId).where("resource", "=", resource)
          .where("level", "=", prev).where("since", "=", row.since).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) continue; // another replica made this change
        done.push(notice(now, grace));
        await made(done.at(-1)!);
      }
      // A violation whose grace period is over blocks deploys (told once).
      const held = level === prev && row
        ? row
        : { since: now, grace_ends_at: grace, blocked: false };
      if (
        level === "over" && held.grace_ends_at !== null && now >= held.grace_ends_at &&
        !held.blocked
      ) {
        const n = await block(orgId, {
          resource,
          used: u,
          limit,
          pct,
          level,
          since: held.since,
          grace_ends_at: held.grace_ends_at,
          blocked: false,
          updated_at: now,
        }, now);
        if (n) done.push(n);
      }
    }
    return done;
  }

  return {
    check,

    /**
     * The 30 s job: checks every organization (at most MAX_ORGS per run, in id order) and
     * returns how many it checked and the changes it made.
     */
    async checkAll(): Promise<{ orgs: number; changes: number }> {
      const orgs = await db.selectFrom("organizations").select("id").orderBy("id")
        .limit(MAX_ORGS).execute();
      let changes = 0;
      for (const o of orgs) changes += (await check(o.id)).length;
      const now = clock.now();
      if (now - prunedAt >= HOUR) {
        prunedAt = now;
        await db.deleteFrom("quota_history").where("hour", "<", now - HISTORY_KEEP_MS).execute();
      }
      return { orgs: orgs.length, changes };
    },

    /**
     * Violations whose grace period ended and whose block the job has written (the ones the
     * violation action acts on), oldest first, at most `limit`.
     */
    async blockedViolations(
      limit = MAX_ORGS,
    ): Promise<Array<UsageStanding & { org_id: string }>> {
      const rows = await db.selectFrom("quota_usage").selectAll().where("level", "=", "over")
        .where("blocked", "=", 1).orderBy("since").limit(limit).execute();
      return rows.filter((r) => isResource(r.resource)).map((r) => ({
        org_id: r.org_id,
        ...standingOf(r),
      }));
    },

    /**
     * Tells that the violation action stopped `apps` (the caller made those stops: each was a
     * conditional write it won): the `quotas.usage` event (alerts: one critical notice).
     */
    appsStopped(s: UsageStanding & { org_id: string }, apps: string[]): void {
      events.emit("quotas.usage", {
        org_id: s.org_id,
        resource: s.resource,
        change: "apps_stopped",
        from: "over",
        to: "over",
        used: s.used,
        limit: s.limit,
        pct: s.pct,
        since: s.since,
        grace_ends_at: s.grace_ends_at,
        apps,
        at: clock.now(),
      });
    },

    /**
     * The organization's history since `from` (ms), per resource, oldest hour first. Bounded: 90
     * days × 24 hours × 7 resources at most are kept.
     */
    async history(orgId: string, from: number): Promise<Partial<Record<Resource, HistoryPoint[]>>> {
      const rows = await db.selectFrom("quota_history").selectAll().where("org_id", "=", orgId)
        .where("hour", ">=", from).orderBy("hour").limit(24 * 90 * RESOURCES.length).execute();
      const out: Partial<Record<Resource, HistoryPoint[]>> = {};
      for (const r of rows) {
        if (!isResource(r.resource)) continue;
        (out[r.resource] ??= []).push({
          hour: Number(r.hour),
          max_used: Number(r.max_used),
          limit: num(r.limit_value),
        });
      }
      return out;
    },

    /**
     * Per organization with any stored standing, the highest percentage of a limit it uses (null:
     * no limited resource) — the admins' overview sorts by it. Bounded by the orgs checked.
     */
    async highestPct(): Promise<Map<string, number | null>> {
      const rows = await db.selectFrom("quota_usage")
        .select(["org_id", (eb) => eb.fn.max<number | null>("pct").as("p")])
        .groupBy("org_id").limit(10 * MAX_ORGS).execute();
      return new Map(rows.map((r) => [r.org_id, r.p === null ? null : Number(r.p)]));
    },

    /** The organization's stored standings, per resource (what the last run found). */
    async standings(orgId: string): Promise<Partial<Record<Resource, UsageStanding>>> {
      return Object.fromEntries(await rowsOf(orgId));
    },

    /**
     * Admission's blocker: why deploys are blocked, or undefined. A violation whose grace period
     * has ended blocks from that instant (before the job writes it down) — unless the use fits
     * the limit in force now (an override raised it back), which unblocks at once too.
     */
    async blocksDeploys(orgId: string): Promise<string | undefined> {
      const now = clock.now();
      const rows = await db.selectFrom("quota_usage").selectAll().where("org_id", "=", orgId)
        .where("level", "=", "over").where("grace_ends_at", "<=", now).execute();
      if (!rows.length) return undefined;
      const [limits, used] = await Promise.all([deps.limits(orgId), deps.used(orgId)]);
      for (const row of rows) {
        if (!isResource(row.resource)) continue;
        const r = row.resource;
        const limit = limits[r];
        const u = used[r];
        if (limit === undefined || u === undefined || u <= limit) continue;
        return `${RESOURCE_INFO[r].label} uses ${formatAmount(r, u)}, above its limit of ${
          formatAmount(r, limit)
        }, since ${new Date(Number(row.since)).toISOString()}; the grace period ended ${
          new Date(Number(row.grace_ends_at)).toISOString()
        }. Free some or ask for a higher limit to deploy again`;
      }
      return undefined;
    },
  };
}

export type QuotaWatch = ReturnType<typeof createQuotaWatch>;
