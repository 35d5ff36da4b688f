/**
 * The reads of health checks the API and pages use: lists with counts by state, one check with its
 * uptime, history pages (a command check's only for callers with the exec right), response-time
 * series and sparklines.
 */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { Invalid, NotFound } from "../errors.ts";
import { CONTAINER_ID_PREFIX } from "../hosts/container_ref.ts";
import type { CheckState } from "./schema.ts";
import { type HealthCheckView, num, type Row, view } from "./rows.ts";
import { checkRead, type HealthCaller, mayRead, type RightsDeps } from "./rights.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Checks listed per page at most. */
export const MAX_LIST = 1000;
/** History rows per page at most. */
export const MAX_HISTORY = 1000;

/** Ranges of the response-time series and their bucket sizes. */
export const SERIES_RANGES = {
  "1h": { span: HOUR, bucket: 60_000 },
  "24h": { span: DAY, bucket: 15 * 60_000 },
  "7d": { span: 7 * DAY, bucket: HOUR },
  "30d": { span: 30 * DAY, bucket: 6 * HOUR },
} as const;
export type SeriesRange = keyof typeof SERIES_RANGES;

/** Uptime percentages (null: no results in the window). */
export interface Uptime {
  "24h": number | null;
  "7d": number | null;
  "30d": number | null;
}

/** Checks with their host's name, and one check of an organization (NotFound for others'). */
export function checkRows(db: Db) {
  const base = () =>
    db.selectFrom("health_checks").innerJoin("hosts", "hosts.id", "health_checks.host_id")
      .selectAll("health_checks").select("hosts.name as host_name");
  return {
    base,
    async row(orgId: string, id: string): Promise<Row> {
      const r = await base().where("health_checks.org_id", "=", orgId)
        .where("health_checks.id", "=", id).executeTakeFirst();
      if (!r) throw new NotFound("Health check not found");
      return r as Row;
    },
  };
}

/** Creates the reads; see the module comment. */
export function createHealthReads(deps: { db: Db; clock: Clock; rights: RightsDeps }) {
  const { db, clock, rights } = deps;
  const { base, row } = checkRows(db);

  const self = {
    /** Checks of an organization with counts by state (counts ignore the state filter). */
    async list(orgId: string, f: {
      state?: CheckState;
      hostId?: string;
      containerId?: string;
      limit?: number;
      offset?: number;
    } = {}): Promise<{
      items: HealthCheckView[];
      total: number;
      counts: Record<CheckState, number>;
    }> {
      let q = base().where("health_checks.org_id", "=", orgId);
      if (f.hostId) q = q.where("health_checks.host_id", "=", f.hostId);
      if (f.containerId) {
        const c = f.containerId;
        q = CONTAINER_ID_PREFIX.test(c)
          ? q.where((eb) =>
            eb.or([
              eb("health_checks.container_id", "like", `${c}%`),
              eb("health_checks.container_name", "=", c),
            ])
          )
          : q.where("health_checks.container_name", "=", c.replace(/^\//, ""));
      }
      const countRows = await q.clearSelect().select((eb) => [
        "health_checks.state",
        eb.fn.countAll<number>().as("n"),
      ]).groupBy("health_checks.state").execute();
      const counts = { unknown: 0, healthy: 0, unhealthy: 0 };
      for (const r of countRows) counts[r.state as CheckState] = Number(r.n);
      const total = f.state ? counts[f.state] : counts.unknown + counts.healthy + counts.unhealthy;
      if (f.state) q = q.where("health_checks.state", "=", f.state);
      const rows = await q.orderBy("hosts.name").orderBy("health_checks.container_name")
        .orderBy("health_checks.name").orderBy("health_checks.id")
        .limit(Math.min(f.limit ?? 500, MAX_LIST)).offset(f.offset ?? 0).execute();
      return { items: (rows as Row[]).map(view), total, counts };
    },

    /** One check with its uptime over 24 h, 7 d and 30 d. */
    async get(orgId: string, id: string): Promise<HealthCheckView & { uptime: Uptime }> {
      const r = view(await row(orgId, id));
      return { ...r, uptime: (await self.uptime([id])).get(id)! };
    },

    /** Uptime percentages of checks (share of ok results per window). */
    async uptime(ids: string[], now = clock.now()): Promise<Map<string, Uptime>> {
      const out = new Map<string, Uptime>(
        ids.map((id) => [id, { "24h": null, "7d": null, "30d": null }]),
      );
      if (!ids.length) return out;
      const d1 = now - DAY;
      const d7 = now - 7 * DAY;
      const rows = await db.selectFrom("health_results").select((eb) => [
        "check_id",
        eb.fn.countAll<number>().as("n30"),
        eb.fn.sum<number>("ok").as("ok30"),
        eb.fn.sum<number>(eb.case().when("at", ">=", d7).then(1).else(0).end()).as("n7"),
        eb.fn.sum<number>(eb.case().when("at", ">=", d7).then(eb.ref("ok")).else(0).end()).as(
          "ok7",
        ),
        eb.fn.sum<number>(eb.case().when("at", ">=", d1).then(1).else(0).end()).as("n1"),
        eb.fn.sum<number>(eb.case().when("at", ">=", d1).then(eb.ref("ok")).else(0).end()).as(
          "ok1",
        ),
      ]).where("check_id", "in", ids).where("at", ">=", now - 30 * DAY).groupBy("check_id")
        .execute();
      const pct = (ok: unknown, n: unknown) =>
        Number(n) > 0 ? Math.round((Number(ok) / Number(n)) * 100_000) / 1000 : null;
      for (const r of rows) {
        out.set(r.check_id, {
          "24h": pct(r.ok1, r.n1),
          "7d": pct(r.ok7, r.n7),
          "30d": pct(r.ok30, r.n30),
        });
      }
      return out;
    },

    /**
     * Results of a check, newest first, a page at a time (`cursor` from the previous page); a
     * command check's only for callers who may run commands in the organization's containers.
     */
    async history(
      orgId: string,
      id: string,
      caller: HealthCaller,
      o: { limit?: number; cursor?: string } = {},
    ) {
      const r = await row(orgId, id);
      await checkRead(rights, orgId, caller, r.kind);
      const limit = Math.min(Math.max(o.limit ?? 100, 1), MAX_HISTORY);
      let q = db.selectFrom("health_results").select([
        "id",
        "at",
        "ok",
        "response_ms",
        "status_code",
        "exit_code",
        "error",
        "output",
        "output_truncated",
      ]).where("check_id", "=", id);
      if (o.cursor) {
        const m = /^(\d{1,16})_(\d{1,20})$/.exec(o.cursor);
        if (!m) {
          throw new Invalid("Invalid input: cursor", {
            cursor: "is not a cursor from a previous page",
          });
        }
        const at = Number(m[1]);
        const rid = Number(m[2]);
        q = q.where((eb) =>
          eb.or([eb("at", "<", at), eb.and([eb("at", "=", at), eb("id", "<", rid)])])
        );
      }
      const rows = await q.orderBy("at", "desc").orderBy("id", "desc").limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({
          at: Number(r.at),
          ok: Number(r.ok) === 1,
          response_ms: num(r.response_ms),
          status_code: num(r.status_code),
          exit_code: num(r.exit_code),
          error: r.error,
          output: r.output,
          output_truncated: Number(r.output_truncated) === 1,
        })),
        next_cursor: rows.length > limit && last ? `${Number(last.at)}_${Number(last.id)}` : null,
      };
    },

    /** Whether the caller may read the results of a check of this kind (pages show a note). */
    mayReadResults(orgId: string, caller: HealthCaller, kind: HealthCheckView["kind"]) {
      return mayRead(rights, orgId, caller, kind);
    },

    /** Response times of a check per bucket over a range: average, maximum, results and failures. */
    async series(orgId: string, id: string, range: SeriesRange, now = clock.now()) {
      await row(orgId, id);
      const { span, bucket } = SERIES_RANGES[range];
      const from = Math.floor((now - span) / bucket) * bucket;
      const b = sql.lit(bucket);
      const rows = await db.selectFrom("health_results").select((eb) => [
        sql<number>`(at / ${b}) * ${b}`.as("t"),
        eb.fn.avg<number>("response_ms").as("avg_ms"),
        eb.fn.max<number>("response_ms").as("max_ms"),
        eb.fn.countAll<number>().as("count"),
        eb.fn.sum<number>(eb.case().when("ok", "=", 0).then(1).else(0).end()).as("failures"),
      ]).where("check_id", "=", id).where("at", ">=", from).groupBy(sql`(at / ${b}) * ${b}`)
        .orderBy("t").execute();
      return {
        range,
        bucket_ms: bucket,
        from,
        to: now,
        points: rows.map((r) => ({
          t: Number(r.t),
          avg_ms: r.avg_ms === null ? null : Math.round(Number(r.avg_ms) * 100) / 100,
          max_ms: num(r.max_ms),
          count: Number(r.count),
          failures: Number(r.failures),
        })),
      };
    },

    /**
     * Recent response times of many checks for sparklines: the average per minute over the last
     * `slots` minutes, oldest first (null for a minute without a timed result). One grouped query,
     * at most `slots` rows per check whatever the interval.
     */
    async sparklines(ids: string[], slots = 30, now = clock.now()) {
      const out = new Map<string, (number | null)[]>(
        ids.map((id) => [id, Array<number | null>(slots).fill(null)]),
      );
      if (!ids.length) return out;
      const minute = 60_000;
      const first = Math.floor(now / minute) * minute - (slots - 1) * minute;
      const b = sql.lit(minute);
      const rows = await db.selectFrom("health_results").select((eb) => [
        "check_id",
        sql<number>`(at / ${b}) * ${b}`.as("t"),
        eb.fn.avg<number>("response_ms").as("avg_ms"),
      ]).where("check_id", "in", ids).where("at", ">=", first)
        .groupBy(["check_id", sql`(at / ${b}) * ${b}`]).execute();
      for (const r of rows) {
        const i = Math.floor((Number(r.t) - first) / minute);
        const line = out.get(r.check_id);
        if (line && i >= 0 && i < slots && r.avg_ms !== null) line[i] = Number(r.avg_ms);
      }
      return out;
    },
  };
  return self;
}
