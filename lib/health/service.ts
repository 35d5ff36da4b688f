/**
 * Health checks on the hub: CRUD (audited), the reads the API and pages use (list with counts, one
 * check with uptime, history pages, response-time series), and the per-host work run serially per
 * host — results ingestion (ingest.ts) and label checks following containers (reconcile.ts). State
 * changes go to the alerts hook; every stored batch is announced on `org:<id>:health`.
 */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { HealthResult } from "../protocol/health.ts";
import { HttpError, notFound } from "../http/errors.ts";
import { uuidv7 } from "../util/ids.ts";
import {
  type CheckCreateInput,
  type CheckFields,
  type CheckState,
  normalizeCheck,
} from "./schema.ts";
import {
  changeBase,
  freshState,
  type HealthChange,
  type HealthCheckView,
  newRow,
  num,
  type Row,
  specColumns,
  specOf,
  view,
} from "./rows.ts";
import { ingestResults } from "./ingest.ts";
import { reconcileHost } from "./reconcile.ts";
import type { HostWork } from "./host_work.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { type HealthEvent, topics } from "../realtime/topics.ts";
import type { z } from "../http/openapi.ts";
import { checkRead, checkWrite, type HealthCaller, mayRead, type RightsDeps } from "./rights.ts";

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

/** What the health service needs. */
export interface HealthDeps extends Omit<RightsDeps, "db"> {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  /** Publishes on the organization's health topic (best effort). */
  realtime: RealtimePublisher;
  /** Asks for the host's agent to get the host's current set of checks. */
  requestSync(hostId: string): void;
  /** Called for every state change, after it is stored (alerts). */
  onChange?(change: HealthChange): void;
}

/** Creates the health service; see the module comment. */
export function createHealthService(deps: HealthDeps) {
  const { db, clock, log, audit } = deps;
  // Ingestion and reconciliation are serial per host, so a batch's state reads see the last write.
  const chains = new Map<string, Promise<void>>();
  const serial = (hostId: string, fn: () => Promise<void>): Promise<void> => {
    const next = (chains.get(hostId) ?? Promise.resolve()).then(fn).catch((e) =>
      log.error("health: update failed", { hostId, error: String(e) })
    );
    chains.set(hostId, next);
    next.finally(() => chains.get(hostId) === next && chains.delete(hostId));
    return next;
  };
  const announce = (orgId: string, data: HealthEvent) =>
    void deps.realtime.publish(topics.health(orgId), data);
  const changed = (c: HealthChange) => {
    try {
      deps.onChange?.(c);
    } catch (e) {
      log.error("health: change hook failed", { error: String(e) });
    }
  };

  const base = () =>
    db.selectFrom("health_checks").innerJoin("hosts", "hosts.id", "health_checks.host_id")
      .selectAll("health_checks").select("hosts.name as host_name");

  async function row(orgId: string, id: string): Promise<Row> {
    const r = await base().where("health_checks.org_id", "=", orgId)
      .where("health_checks.id", "=", id).executeTakeFirst();
    if (!r) throw notFound("Health check");
    return r as Row;
  }

  /** Finds a container of an organization's host in the cache by full id, id prefix or name. */
  async function findContainer(orgId: string, hostId: string, ref: string) {
    const host = await db.selectFrom("hosts").select(["id", "name"]).where("org_id", "=", orgId)
      .where("id", "=", hostId).where("removed_at", "is", null).executeTakeFirst();
    if (!host) throw notFound("Host");
    let q = db.selectFrom("containers").select(["id", "name"]).where("host_id", "=", hostId);
    const name = ref.replace(/^\//, "");
    q = /^[a-f0-9]{12,64}$/.test(ref)
      ? q.where((eb) =>
        eb.or([eb("id", "like", `${ref}%`), eb("name", "=", name), eb("name", "=", `/${name}`)])
      )
      : q.where((eb) => eb.or([eb("name", "=", name), eb("name", "=", `/${name}`)]));
    const rows = await q.limit(2).execute();
    if (!rows.length) throw notFound(`Container "${ref}"`);
    if (rows.length > 1) {
      throw new HttpError(400, "validation", `Container "${ref}" is ambiguous`, {
        container: "matches more than one container; give the full id",
      });
    }
    return { id: rows[0].id, name: rows[0].name.replace(/^\//, "") };
  }

  function announceChange(c: HealthChange) {
    announce(c.org_id, { kind: "state", check_id: c.check_id, host_id: c.host_id, state: c.to });
    changed(c);
  }
  const work: HostWork = { db, clock, log, announce, announceChange };
  const rights: RightsDeps = {
    db,
    allowPrivateTargets: deps.allowPrivateTargets,
    containerAddresses: deps.containerAddresses,
  };

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
        q = /^[a-f0-9]{12,64}$/.test(c)
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
          throw new HttpError(400, "validation", "Invalid input: cursor", {
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

    /**
     * Starts monitoring a container (audited `health_check.created`, with the command of a
     * command check); the caller's rights decide what the check may probe (rights.ts).
     */
    async create(
      ctx: ActionContext,
      orgId: string,
      input: z.infer<typeof CheckCreateInput>,
      caller: HealthCaller,
      opts: { urlField?: "http.url" | "http.host" } = {},
    ): Promise<HealthCheckView> {
      const { host_id, container, ...fields } = input;
      const normal = normalizeCheck(fields as CheckFields);
      const ctr = await findContainer(orgId, host_id, container);
      const spec = await checkWrite(
        rights,
        { orgId, hostId: host_id, containerId: ctr.id },
        caller,
        normal,
        undefined,
        opts.urlField,
      );
      const now = clock.now();
      const id = uuidv7(now);
      await audit.run(ctx, "health_check.created", {
        orgId,
        target: { type: "health_check", id, name: spec.name },
        metadata: {
          kind: spec.kind,
          host_id,
          container: ctr.name,
          ...(spec.kind === "command" ? { command: spec.config.argv } : {}),
        },
      }, async () => {
        await db.insertInto("health_checks").values(newRow(
          {
            id,
            org_id: orgId,
            host_id,
            container_id: ctr.id,
            container_name: ctr.name,
            source: "manual",
            created_by: ctx.actor.id ?? null,
          },
          spec,
          now,
        )).execute();
      });
      announce(orgId, { kind: "created", check_id: id, host_id });
      deps.requestSync(host_id);
      return view(await row(orgId, id));
    },

    /**
     * Changes a check (audited `health_check.updated`, with the command before and after when it
     * changed); label checks only take `enabled`; the caller's rights as for create.
     */
    async update(
      ctx: ActionContext,
      orgId: string,
      id: string,
      input: CheckFields,
      caller: HealthCaller,
      opts: { urlField?: "http.url" | "http.host" } = {},
    ): Promise<HealthCheckView> {
      const r = await row(orgId, id);
      if (r.source === "label") {
        const other = Object.keys(input).filter((k) =>
          k !== "enabled" && input[k as keyof CheckFields] !== undefined
        );
        if (other.length) {
          throw new HttpError(
            409,
            "label_check",
            `Cannot change health check "${r.name}": it is declared by the container's labels ` +
              `(change the labels instead; only enabled can be set here)`,
          );
        }
      }
      const before = specOf(r);
      const spec = await checkWrite(
        rights,
        { orgId, hostId: r.host_id, containerId: r.container_id },
        caller,
        normalizeCheck(input, before),
        before,
        opts.urlField,
      );
      const argv = (s: typeof spec) => (s.kind === "command" ? s.config.argv : null);
      const command = JSON.stringify(argv(before)) !== JSON.stringify(argv(spec))
        ? { command: { from: argv(before), to: argv(spec) } }
        : {};
      const now = clock.now();
      const probeChanged = JSON.stringify({ ...before, name: "", enabled: true }) !==
        JSON.stringify({ ...spec, name: "", enabled: true });
      const reset = probeChanged || spec.enabled !== before.enabled;
      await audit.run(ctx, "health_check.updated", {
        orgId,
        target: { type: "health_check", id, name: spec.name },
        metadata: {
          fields: Object.keys(input).filter((k) => k !== "http" && k !== "command"),
          ...command,
        },
      }, async () => {
        await db.updateTable("health_checks").set({
          ...specColumns(spec),
          ...(reset ? freshState(now) : {}),
          updated_at: now,
        }).where("id", "=", id).execute();
      });
      if (reset && r.state !== "unknown") {
        announceChange({
          ...changeBase(r),
          from: r.state,
          to: spec.enabled ? "unknown" : "removed",
          at: now,
          error: null,
        });
      }
      deps.requestSync(r.host_id);
      return view(await row(orgId, id));
    },

    /** Stops monitoring (audited `health_check.deleted`); its history goes with it. */
    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      const r = await row(orgId, id);
      if (r.source === "label") {
        throw new HttpError(
          409,
          "label_check",
          `Cannot delete health check "${r.name}": it is declared by the container's labels ` +
            `(remove the labels, or disable it)`,
        );
      }
      await audit.run(ctx, "health_check.deleted", {
        orgId,
        target: { type: "health_check", id, name: r.name },
      }, async () => {
        await db.deleteFrom("health_checks").where("id", "=", id).execute();
      });
      announceChange({
        ...changeBase(r),
        from: r.state,
        to: "removed",
        at: clock.now(),
        error: null,
      });
      deps.requestSync(r.host_id);
    },

    /**
     * A container was removed through Capstan, as the user chose for its checks: `pause` keeps
     * each manual check with its history, disabled and marked gone (enabled again by hand, e.g.
     * once a container of that name is back); `delete` deletes them with their history. Checks
     * declared by labels go with their container either way. Audited per check; open alerts end.
     */
    async containerRemoved(
      ctx: ActionContext,
      orgId: string,
      hostId: string,
      container: { id: string; name: string },
      mode: "pause" | "delete",
    ): Promise<number> {
      const rows = await base().where("health_checks.org_id", "=", orgId)
        .where("health_checks.host_id", "=", hostId)
        .where("health_checks.container_id", "=", container.id)
        .where("health_checks.source", "=", "manual").limit(MAX_LIST).execute() as Row[];
      for (const r of rows) {
        if (mode === "delete") {
          await self.remove(ctx, orgId, r.id);
          continue;
        }
        const now = clock.now();
        await audit.run(ctx, "health_check.paused", {
          orgId,
          target: { type: "health_check", id: r.id, name: r.name },
          metadata: { reason: "container removed", container: container.name },
        }, async () => {
          await db.updateTable("health_checks").set({
            enabled: 0,
            ...freshState(now),
            container_gone_at: now,
            updated_at: now,
          }).where("id", "=", r.id).execute();
        });
        announceChange({ ...changeBase(r), from: r.state, to: "removed", at: now, error: null });
      }
      if (rows.length && mode === "pause") deps.requestSync(hostId);
      return rows.length;
    },

    /**
     * The checks the host's agent should run (enabled ones whose container is there), as the
     * wire contract has them.
     */
    async specsFor(hostId: string) {
      const rows = await db.selectFrom("health_checks").selectAll().where("host_id", "=", hostId)
        .where("enabled", "=", 1).where("container_gone_at", "is", null).orderBy("id").execute();
      return rows.map((r) => {
        const config = JSON.parse(r.config);
        return {
          id: r.id,
          container_id: r.container_id,
          kind: r.kind,
          interval_s: Number(r.interval_s),
          timeout_s: Number(r.timeout_s),
          start_delay_s: Number(r.start_delay_s),
          ...(r.kind === "http" ? { http: config } : {}),
          ...(r.kind === "tcp" ? { tcp: config } : {}),
          ...(r.kind === "command" ? { command: config } : {}),
        };
      });
    },

    /** Stores a host's results and moves each check's state (serial per host). */
    ingest(host: { id: string; org_id: string }, results: HealthResult[]): Promise<void> {
      return serial(host.id, () => ingestResults(work, host, results));
    },

    /**
     * The host's container cache changed: label checks follow their containers, manual checks
     * follow a container recreated under the same name, and a (re)started container restarts the
     * start delay of its checks. Syncs the agent when the set changed.
     */
    containersChanged(
      host: { id: string; org_id: string },
      e?: { action: string; id: string; time_nano?: number },
    ): Promise<void> {
      return serial(host.id, async () => {
        if (e?.action === "start") {
          const at = e.time_nano ? Math.floor(e.time_nano / 1e6) : clock.now();
          await db.updateTable("health_checks").set({ started_at: at }).where(
            "host_id",
            "=",
            host.id,
          )
            .where("container_id", "=", e.id).execute();
          return;
        }
        // A snapshot is the whole truth; an event only says what happened to its container.
        const removed = !e ? "any" : new Set(e.action === "destroy" ? [e.id] : []);
        if (await reconcileHost(work, host, removed)) deps.requestSync(host.id);
      });
    },

    /** Resolves when queued per-host work is done (tests, shutdown). */
    async idle(): Promise<void> {
      while (chains.size) await Promise.all([...chains.values()]);
    },
  };

  return self;
}

export type HealthService = ReturnType<typeof createHealthService>;
