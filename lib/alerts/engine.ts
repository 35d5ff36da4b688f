/**
 * The alert engine. Metric batches are evaluated on the ingest path right after they commit: each
 * host has a precomputed plan (series key → the rules and subject states that read it), so a
 * sample costs one map lookup per series plus a few comparisons per matching rule, in memory.
 * State changes go to one serial worker that persists them with compare-and-set (state_store.ts),
 * records alerts and queues notifications in the same transaction, so evaluation never waits on the
 * database or on a channel. Agent events and the periodic tick (host offline, event holds,
 * restart-loop expiry, reminders) run on the same worker, so one subject's changes stay ordered.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import type { StateRow, StateStore, StateWrite } from "./state_store.ts";
import type { RuleStore } from "./rules.ts";
import type { ChannelStore } from "./channels/store.ts";
import type { Delivery } from "./channels/delivery.ts";
import type { AlertMessage, NotificationEvent } from "./channels/message.ts";
import type { AlertsTable, Database } from "../db/schema.ts";
import type { Transaction } from "kysely";
import {
  type AlertState,
  newSubject,
  step,
  type SubjectState,
  type Transition,
  withheld,
} from "./evaluator.ts";
import {
  type CompiledRule,
  compileRule,
  type HostInfo,
  ruleCoversHost,
  ruleReadsKey,
} from "./compile.ts";
import { alertTitle, firingDetail, resolvedDetail } from "./describe.ts";
import { uuidv7 } from "../util/ids.ts";
import type { AlertsEvent } from "../realtime/topics.ts";

/** Samples stamped this far ahead of the hub's clock are skipped (the store refuses them too). */
const MAX_FUTURE_MS = 5 * 60_000;
/** Host facts (labels, name) are re-read this often; a stale plan keeps serving meanwhile. */
const PLAN_TTL_MS = 60_000;
/** A host without a connection here and without a report for this long counts as down for muting. */
const DOWN_AFTER_MS = 60_000;

/** One (rule, subject): the evaluator's state plus what is persisted with it. */
export interface Subject extends SubjectState {
  key: string;
  ruleId: string;
  subject: string;
  hostId: string;
  containerId: string;
  /** Version of the stored row this memory is based on (0: none). */
  version: number;
  alertId: string | null;
  lastNotifiedAt: number | null;
  lastEventAt: number | null;
  /** Container name seen in the event that made an event subject pending. */
  name?: string;
  /** Restart-loop: engine times (ms) of recent `die` events. */
  events?: number[];
  /** A persist-only write queued and not yet started, updated in place instead of queueing more. */
  queuedSync?: Op;
}

interface Entry {
  rule: CompiledRule;
  subj: Subject;
}

interface HostPlan {
  host: HostInfo;
  fetchedAt: number;
  metric: CompiledRule[];
  container: CompiledRule[];
  events: CompiledRule[];
  byKey: Map<string, Entry[]>;
  byCtr: Map<string, Entry[]>;
}

interface OrgState {
  id: string;
  slug: string;
  rules: CompiledRule[];
  byId: Map<string, CompiledRule>;
  subjects: Map<string, Subject>;
  plans: Map<string, HostPlan>;
  /** Hosts with a firing host_offline alert: their containers' alerts are muted. */
  offline: Set<string>;
}

type Snap = { state: AlertState; since: number; value: number | null; lastEventAt: number | null };

/** What a firing records and says. */
interface FireInfo {
  title: string;
  detail: string;
  hostName: string;
  containerName: string | null;
}

type Op =
  | { kind: "sync"; org: OrgState; subj: Subject; snap: Snap; started?: boolean }
  | {
    kind: "fire";
    org: OrgState;
    subj: Subject;
    snap: Snap;
    info: FireInfo | (() => Promise<FireInfo>);
  }
  | { kind: "resolve"; org: OrgState; subj: Subject; snap: Snap }
  | { kind: "notify"; org: OrgState; subj: Subject; event: "firing" | "reminder" }
  | { kind: "instant"; org: OrgState; subj: Subject; snap: Snap; info: FireInfo }
  | { kind: "task"; run: () => Promise<void> };

/** Dependencies of the engine. */
export interface EngineDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  rules: RuleStore;
  states: StateStore;
  channels: ChannelStore;
  delivery: Delivery;
  /** Publishes an alert change on `org:<id>:alerts`. */
  publish(orgId: string, data: AlertsEvent): void;
  /** Whether a host's agent is connected to this process. */
  isOnline(hostId: string): boolean;
  publicUrl: string;
}

const subjectKey = (ruleId: string, subject: string) => `${ruleId}\u0000${subject}`;
const snap = (s: Subject): Snap => ({
  state: s.state,
  since: s.since,
  value: s.value,
  lastEventAt: s.lastEventAt,
});

/** Creates the engine; see the module comment. */
export function createAlertEngine(deps: EngineDeps) {
  const { db, clock, log, states } = deps;
  const orgs = new Map<string, OrgState>();
  const loading = new Map<string, Promise<OrgState>>();
  /** Batches of hosts whose plan is being built, kept in arrival order. */
  const waiting = new Map<string, MetricsBatch[]>();
  const refreshing = new Set<string>();
  /** Hub time of the last report of each host seen by this process. */
  const lastReport = new Map<string, number>();

  // ---- organizations, rules and plans ----------------------------------------------------------

  function subjectFromRow(r: StateRow): Subject {
    return {
      ...newSubject(),
      key: subjectKey(r.rule_id, r.subject),
      ruleId: r.rule_id,
      subject: r.subject,
      hostId: r.host_id,
      containerId: r.container_id,
      state: r.state,
      since: Number(r.since),
      value: r.value === null ? null : Number(r.value),
      version: Number(r.version),
      alertId: r.alert_id,
      lastNotifiedAt: r.last_notified_at === null ? null : Number(r.last_notified_at),
      lastEventAt: r.last_event_at === null ? null : Number(r.last_event_at),
    };
  }

  /** Takes the stored row's word over memory (another writer won a race, or a rule was retired). */
  function adopt(s: Subject, r: StateRow | undefined) {
    if (!r) {
      Object.assign(s, { state: "ok", version: 0, alertId: null, lastNotifiedAt: null });
      return;
    }
    const fresh = subjectFromRow(r);
    Object.assign(s, {
      state: fresh.state,
      since: fresh.since,
      value: fresh.value,
      version: fresh.version,
      alertId: fresh.alertId,
      lastNotifiedAt: fresh.lastNotifiedAt,
      lastEventAt: fresh.lastEventAt,
    });
  }

  function subjectOf(org: OrgState, rule: CompiledRule, subject: string, hostId: string, ctr = "") {
    const key = subjectKey(rule.id, subject);
    let s = org.subjects.get(key);
    if (!s) {
      s = {
        ...newSubject(),
        key,
        ruleId: rule.id,
        subject,
        hostId,
        containerId: ctr,
        version: 0,
        alertId: null,
        lastNotifiedAt: null,
        lastEventAt: null,
      };
      org.subjects.set(key, s);
    }
    return s;
  }

  function buildPlan(org: OrgState, host: HostInfo, fetchedAt = clock.now()): HostPlan {
    const mine = org.rules.filter((r) => ruleCoversHost(r, host));
    return {
      host,
      fetchedAt,
      metric: mine.filter((r) => r.threshold && !r.container),
      container: mine.filter((r) => r.threshold && r.container),
      events: mine.filter((r) => !r.threshold),
      byKey: new Map(),
      byCtr: new Map(),
    };
  }

  async function reloadRules(org: OrgState) {
    const [rows, stateRows] = await Promise.all([
      deps.rules.enabledRows(org.id),
      states.loadOrg(org.id),
    ]);
    org.rules = rows.map(compileRule);
    org.byId = new Map(org.rules.map((r) => [r.id, r]));
    const stored = new Map(stateRows.map((r) => [subjectKey(r.rule_id, r.subject), r]));
    for (const [k, s] of org.subjects) {
      if (!org.byId.has(s.ruleId)) org.subjects.delete(k);
      else if (stored.get(k)?.version !== s.version) adopt(s, stored.get(k));
      stored.delete(k);
    }
    for (const [k, r] of stored) {
      if (org.byId.has(r.rule_id)) org.subjects.set(k, subjectFromRow(r));
    }
    org.offline = new Set(
      [...org.subjects.values()].filter((s) =>
        s.state === "firing" && org.byId.get(s.ruleId)?.spec.event === "host_offline"
      ).map((s) => s.hostId),
    );
    for (const [id, p] of org.plans) org.plans.set(id, buildPlan(org, p.host, p.fetchedAt));
  }

  async function loadOrg(orgId: string): Promise<OrgState> {
    const have = orgs.get(orgId);
    if (have) return have;
    let p = loading.get(orgId);
    if (!p) {
      p = (async () => {
        const o = await db.selectFrom("organizations").select("slug").where("id", "=", orgId)
          .executeTakeFirst();
        const org: OrgState = {
          id: orgId,
          slug: o?.slug ?? orgId,
          rules: [],
          byId: new Map(),
          subjects: new Map(),
          plans: new Map(),
          offline: new Set(),
        };
        await reloadRules(org);
        orgs.set(orgId, org);
        return org;
      })();
      loading.set(orgId, p);
      p.finally(() => loading.delete(orgId)).catch(() => {});
    }
    return await p;
  }

  async function readHost(hostId: string): Promise<HostInfo | undefined> {
    const h = await db.selectFrom("hosts").select([
      "id",
      "org_id",
      "name",
      "labels",
      "enrolled_at",
      "last_seen_at",
    ]).where("id", "=", hostId).where("removed_at", "is", null).executeTakeFirst();
    return h && {
      ...h,
      labels: JSON.parse(h.labels),
      enrolled_at: h.enrolled_at === null ? null : Number(h.enrolled_at),
      last_seen_at: h.last_seen_at === null ? null : Number(h.last_seen_at),
    };
  }

  async function planFor(org: OrgState, hostId: string): Promise<HostPlan | undefined> {
    const have = org.plans.get(hostId);
    if (have && clock.now() - have.fetchedAt < PLAN_TTL_MS) return have;
    const host = await readHost(hostId);
    if (!host || host.org_id !== org.id) return undefined;
    const plan = buildPlan(org, host);
    org.plans.set(hostId, plan);
    return plan;
  }

  /** Re-reads a host's facts in the background; the stale plan keeps serving until then. */
  function refreshPlan(org: OrgState, hostId: string) {
    if (refreshing.has(hostId)) return;
    refreshing.add(hostId);
    readHost(hostId).then((host) => {
      if (!host) org.plans.delete(hostId);
      else org.plans.set(hostId, buildPlan(org, host));
    }).catch((e) => log.warn("alerts: host refresh failed", { hostId, error: String(e) }))
      .finally(() => refreshing.delete(hostId));
  }

  // ---- metric evaluation (the hot path) --------------------------------------------------------

  function entriesForKey(org: OrgState, plan: HostPlan, key: string): Entry[] {
    const brace = key.indexOf("{");
    const family = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? "" : key.slice(brace);
    const out = plan.metric.filter((r) => ruleReadsKey(r, key, family)).map((rule) => ({
      rule,
      subj: subjectOf(org, rule, plan.host.id + labels, plan.host.id),
    }));
    plan.byKey.set(key, out);
    return out;
  }

  function entriesForContainer(org: OrgState, plan: HostPlan, id: string, key: string, ck: string) {
    const brace = key.indexOf("{");
    const family = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? "" : key.slice(brace);
    const out = plan.container.filter((r) => ruleReadsKey(r, key, family)).map((rule) => ({
      rule,
      subj: subjectOf(org, rule, `${plan.host.id}/${id}${labels}`, plan.host.id, id),
    }));
    plan.byCtr.set(ck, out);
    return out;
  }

  function evaluate(org: OrgState, plan: HostPlan, batch: MetricsBatch) {
    if (org.offline.has(plan.host.id)) {
      enqueue({
        kind: "task",
        run: () => hostBack(org, plan.host.id),
      });
    }
    if (!plan.metric.length && !plan.container.length) return;
    const horizon = clock.now() + MAX_FUTURE_MS;
    for (const s of batch.samples) {
      if (s.t > horizon) continue;
      if (plan.metric.length) {
        const values = s.host;
        for (const key in values) {
          const es = plan.byKey.get(key) ?? entriesForKey(org, plan, key);
          for (let i = 0; i < es.length; i++) {
            const tr = step(es[i].rule.threshold!, es[i].subj, s.t, values[key]);
            if (tr) onTransition(org, plan, es[i], tr, key);
          }
        }
      }
      if (s.containers && plan.container.length) {
        for (const id in s.containers) {
          const values = s.containers[id];
          for (const key in values) {
            const ck = id + "\u0000" + key;
            const es = plan.byCtr.get(ck) ?? entriesForContainer(org, plan, id, key, ck);
            for (let i = 0; i < es.length; i++) {
              const tr = step(es[i].rule.threshold!, es[i].subj, s.t, values[key]);
              if (tr) onTransition(org, plan, es[i], tr, key);
            }
          }
        }
      }
    }
  }

  function onTransition(org: OrgState, plan: HostPlan, e: Entry, tr: Transition, key: string) {
    const { subj, rule } = e;
    // A metric hold is not persisted: it restarts after a hub restart anyway (sample history is
    // memory only), and writing every crossing of a noisy series would cost the ingest path.
    if (tr === "pending" || tr === "recovered") return;
    if (tr === "resolved") return enqueue({ kind: "resolve", org, subj, snap: snap(subj) });
    const brace = key.indexOf("{");
    const labels = brace < 0 ? "" : key.slice(brace);
    const value = subj.value;
    const hostName = plan.host.name;
    const ctrId = subj.containerId;
    enqueue({
      kind: "fire",
      org,
      subj,
      snap: snap(subj),
      // The container's name is looked up off the hot path, when the worker gets to it.
      info: async () => {
        const containerName = ctrId ? await containerNameOf(plan.host.id, ctrId) : null;
        return {
          hostName,
          containerName,
          title: alertTitle(rule, hostName, containerName, labels),
          detail: firingDetail(rule, { value, key }),
        };
      },
    });
  }

  /** Evaluates a committed batch; called by metrics ingest. Cheap, synchronous, never throws. */
  function onBatch(host: { id: string; org_id: string }, batch: MetricsBatch): void {
    try {
      lastReport.set(host.id, clock.now());
      const org = orgs.get(host.org_id);
      const plan = org?.plans.get(host.id);
      if (org && plan && !waiting.has(host.id)) {
        if (clock.now() - plan.fetchedAt >= PLAN_TTL_MS) refreshPlan(org, host.id);
        evaluate(org, plan, batch);
        return;
      }
      // First batch of a host (or of an organization) since start: build its plan, then evaluate
      // this and any batch that arrives meanwhile in order.
      const queued = waiting.get(host.id);
      if (queued) return void queued.push(batch);
      const q = [batch];
      waiting.set(host.id, q);
      (async () => {
        try {
          const o = await loadOrg(host.org_id);
          const p = await planFor(o, host.id);
          while (q.length) {
            const b = q.shift()!;
            if (p) evaluate(o, p, b);
          }
        } catch (err) {
          log.error("alerts: cannot prepare host", { hostId: host.id, error: String(err) });
        } finally {
          waiting.delete(host.id);
        }
      })();
    } catch (err) {
      log.error("alerts: evaluation failed", { hostId: host.id, error: String(err) });
    }
  }

  // ---- the serial worker -----------------------------------------------------------------------

  const queue: Op[] = [];
  let draining: Promise<void> | null = null;

  function enqueue(op: Op) {
    queue.push(op);
    // Started in a microtask: an op that enqueues more while it runs must not start a second drain.
    draining ??= Promise.resolve().then(drain);
  }

  async function drain() {
    while (queue.length) {
      const op = queue.shift()!;
      try {
        await run(op);
      } catch (err) {
        log.error("alerts: state change failed", { kind: op.kind, error: String(err) });
        if (op.kind !== "task") await reload(op.subj).catch(() => {});
      }
    }
    draining = null;
  }

  /** Persists a pending/ok change; one queued write per subject, updated in place. */
  function sync(org: OrgState, subj: Subject) {
    const q = subj.queuedSync;
    if (q && q.kind === "sync" && !q.started) {
      q.snap = snap(subj);
      return;
    }
    const op: Op = { kind: "sync", org, subj, snap: snap(subj) };
    subj.queuedSync = op;
    enqueue(op);
  }

  async function reload(subj: Subject) {
    adopt(subj, await states.get(subj.ruleId, subj.subject));
  }

  function write(
    subj: Subject,
    s: Snap,
    orgId: string,
    over: Partial<StateWrite> = {},
  ): StateWrite {
    return {
      rule_id: subj.ruleId,
      subject: subj.subject,
      org_id: orgId,
      host_id: subj.hostId,
      container_id: subj.containerId,
      state: s.state,
      since: s.since,
      value: s.value,
      last_event_at: s.lastEventAt,
      last_notified_at: subj.lastNotifiedAt,
      alert_id: subj.alertId,
      ...over,
    };
  }

  async function containerNameOf(hostId: string, id: string): Promise<string> {
    const c = await db.selectFrom("containers").select("name").where("host_id", "=", hostId)
      .where("id", "=", id).executeTakeFirst();
    return c?.name.replace(/^\//, "") ?? id.slice(0, 12);
  }

  /** Whether a host counts as down: a firing host_offline alert, or silent and not connected here. */
  function hostDown(org: OrgState, hostId: string, now: number): boolean {
    if (org.offline.has(hostId)) return true;
    if (deps.isOnline(hostId)) return false;
    const seen = Math.max(
      lastReport.get(hostId) ?? 0,
      org.plans.get(hostId)?.host.last_seen_at ?? 0,
    );
    return now - seen > DOWN_AFTER_MS;
  }

  function message(
    org: OrgState,
    rule: CompiledRule,
    a: AlertsTable,
    event: NotificationEvent,
    detail: string,
  ): AlertMessage {
    return {
      event,
      alert_id: a.id,
      org: org.slug,
      rule: rule.name,
      severity: a.severity,
      title: a.title,
      detail,
      host: a.host_name,
      container: a.container_name,
      value: a.value,
      started_at: Number(a.started_at),
      ended_at: a.ended_at === null ? null : Number(a.ended_at),
      url: deps.publicUrl ? `${deps.publicUrl}/o/${org.slug}/notifications` : null,
    };
  }

  async function queueNotifications(
    tx: Transaction<Database>,
    org: OrgState,
    rule: CompiledRule,
    a: AlertsTable,
    event: NotificationEvent,
    detail: string,
  ): Promise<string[]> {
    const channels = await deps.channels.forRule(org.id, rule.spec.channels, tx);
    return await deps.delivery.enqueue(
      tx,
      org.id,
      a.id,
      event,
      message(org, rule, a, event, detail),
      channels,
    );
  }

  async function run(op: Op): Promise<void> {
    if (op.kind === "task") return await op.run();
    const { org, subj } = op;
    const rule = org.byId.get(subj.ruleId);
    if (!rule) return;
    const now = clock.now();
    if (op.kind === "sync") {
      op.started = true;
      if (subj.queuedSync === op) subj.queuedSync = undefined;
      const v = await states.cas(db, write(subj, op.snap, org.id), subj.version, now);
      if (v === null) return await reload(subj);
      subj.version = v;
      return;
    }
    if (op.kind === "fire" || op.kind === "instant") {
      const info = typeof op.info === "function" ? await op.info() : op.info;
      const muted = subj.containerId !== "" && hostDown(org, subj.hostId, now);
      const alertId = uuidv7(now);
      const instant = op.kind === "instant";
      let kicked: string[] = [];
      const done = await db.transaction().execute(async (tx) => {
        const stored = await states.get(subj.ruleId, subj.subject, tx);
        const gate = withheld({
          quiet: rule.quiet,
          silencedUntil: stored?.silenced_until ?? null,
          acknowledged: false,
          muted,
          event: "firing",
        }, now);
        const notifiedAt = gate === null ? now : (instant ? subj.lastNotifiedAt : null);
        const v = await states.cas(
          tx,
          write(subj, op.snap, org.id, {
            last_notified_at: notifiedAt,
            alert_id: instant ? null : alertId,
          }),
          subj.version,
          now,
        );
        if (v === null) return null;
        const a: AlertsTable = {
          id: alertId,
          org_id: org.id,
          rule_id: rule.id,
          rule_name: rule.name,
          subject: subj.subject,
          host_id: subj.hostId,
          host_name: info.hostName,
          container_id: subj.containerId || null,
          container_name: info.containerName,
          severity: rule.spec.severity,
          title: info.title,
          value: op.snap.value,
          state: instant ? "resolved" : "firing",
          started_at: op.snap.since,
          ended_at: instant ? op.snap.since : null,
          acknowledged_by: null,
          acknowledged_at: null,
          silenced_until: stored?.silenced_until ?? null,
          muted: muted ? 1 : 0,
        };
        await tx.insertInto("alerts").values(a).execute();
        if (gate === null) {
          kicked = await queueNotifications(tx, org, rule, a, "firing", info.detail);
        }
        return { v, notifiedAt };
      });
      if (!done) return await reload(subj);
      subj.version = done.v;
      subj.lastNotifiedAt = done.notifiedAt;
      subj.alertId = instant ? null : alertId;
      if (rule.spec.event === "host_offline") org.offline.add(subj.hostId);
      deps.delivery.kick(kicked);
      deps.publish(org.id, {
        kind: instant ? "event" : "fired",
        id: alertId,
        severity: rule.spec.severity,
        title: info.title,
        host_id: subj.hostId,
        muted,
      });
      return;
    }
    if (op.kind === "resolve") {
      const alertId = subj.alertId;
      let kicked: string[] = [];
      const done = await db.transaction().execute(async (tx) => {
        const stored = await states.get(subj.ruleId, subj.subject, tx);
        const a = alertId
          ? await tx.selectFrom("alerts").selectAll().where("id", "=", alertId).executeTakeFirst()
          : undefined;
        const gate = subj.lastNotifiedAt === null || !a ? "never notified" : withheld({
          quiet: rule.quiet,
          silencedUntil: Math.max(
            Number(stored?.silenced_until ?? 0),
            Number(a.silenced_until ?? 0),
          ) || null,
          acknowledged: false,
          muted: a.muted === 1,
          event: "resolved",
        }, now);
        const v = await states.cas(
          tx,
          write(subj, op.snap, org.id, { alert_id: null, last_notified_at: null }),
          subj.version,
          now,
        );
        if (v === null) return null;
        if (a) {
          await tx.updateTable("alerts").set({ state: "resolved", ended_at: op.snap.since })
            .where("id", "=", a.id).execute();
          if (gate === null) {
            const ended = { ...a, state: "resolved" as const, ended_at: op.snap.since };
            const detail = resolvedDetail(rule, op.snap.value, Number(a.started_at), op.snap.since);
            kicked = await queueNotifications(tx, org, rule, ended, "resolved", detail);
          }
        }
        return v;
      });
      if (done === null) return await reload(subj);
      subj.version = done;
      subj.alertId = null;
      subj.lastNotifiedAt = null;
      if (rule.spec.event === "host_offline") org.offline.delete(subj.hostId);
      deps.delivery.kick(kicked);
      deps.publish(org.id, { kind: "resolved", id: alertId, host_id: subj.hostId });
      return;
    }
    // notify: a reminder, or a first notification that was withheld when the alert fired.
    if (subj.state !== "firing" || !subj.alertId) return;
    let kicked: string[] = [];
    const done = await db.transaction().execute(async (tx) => {
      const stored = await states.get(subj.ruleId, subj.subject, tx);
      const a = await tx.selectFrom("alerts").selectAll().where("id", "=", subj.alertId!)
        .executeTakeFirst();
      if (!a || a.state !== "firing") return undefined;
      const muted = subj.containerId !== "" && hostDown(org, subj.hostId, now);
      const gate = withheld({
        quiet: rule.quiet,
        silencedUntil:
          Math.max(Number(stored?.silenced_until ?? 0), Number(a.silenced_until ?? 0)) ||
          null,
        acknowledged: a.acknowledged_at !== null,
        muted,
        event: op.event,
      }, now);
      if (gate !== null) return undefined;
      const v = await states.cas(
        tx,
        write(subj, snap(subj), org.id, { last_notified_at: now }),
        subj.version,
        now,
      );
      if (v === null) return null;
      if (a.muted) {
        await tx.updateTable("alerts").set({ muted: 0 }).where("id", "=", a.id).execute();
      }
      const detail = op.event === "reminder"
        ? `Still firing since ${new Date(Number(a.started_at)).toISOString()}`
        : firingDetail(rule, { value: a.value, container: a.container_name });
      kicked = await queueNotifications(tx, org, rule, a, op.event, detail);
      return v;
    });
    if (done === null) return await reload(subj);
    if (done === undefined) return;
    subj.version = done;
    subj.lastNotifiedAt = now;
    deps.delivery.kick(kicked);
  }

  // ---- event-driven and periodic transitions ---------------------------------------------------

  /** Moves a subject to firing now (hub time) and queues the write. */
  function fireNow(
    org: OrgState,
    subj: Subject,
    value: number | null,
    info: FireInfo,
    t = clock.now(),
  ) {
    subj.state = "firing";
    subj.since = t;
    subj.value = value;
    enqueue({ kind: "fire", org, subj, snap: snap(subj), info });
  }

  function resolveNow(org: OrgState, subj: Subject, t = clock.now()) {
    if (subj.state === "pending") {
      subj.state = "ok";
      subj.since = t;
      return sync(org, subj);
    }
    if (subj.state !== "firing") return;
    subj.state = "ok";
    subj.since = t;
    enqueue({ kind: "resolve", org, subj, snap: snap(subj) });
  }

  function hostBack(org: OrgState, hostId: string): Promise<void> {
    for (const r of org.rules) {
      if (r.spec.event !== "host_offline") continue;
      const s = org.subjects.get(subjectKey(r.id, hostId));
      if (s?.state === "firing") resolveNow(org, s);
    }
    return Promise.resolve();
  }

  return {
    onBatch,
    loadOrg,
    subjectOf,
    fireNow,
    resolveNow,
    sync,
    hostDown,
    hostBack,
    planFor,
    containerNameOf,
    lastReport,
    enqueue,

    /** Fires an instant alert (OOM kill): recorded as started and ended at once, never resolved. */
    instant(org: OrgState, subj: Subject, value: number | null, info: FireInfo) {
      const t = clock.now();
      subj.lastEventAt = t;
      enqueue({
        kind: "instant",
        org,
        subj,
        snap: { state: "ok", since: t, value, lastEventAt: t },
        info,
      });
    },

    /** Queues a notification check for a firing subject (reminder or withheld first). */
    notify(org: OrgState, subj: Subject, event: "firing" | "reminder") {
      enqueue({ kind: "notify", org, subj, event });
    },

    /** A host's facts changed (renamed): its next alert reads them again instead of the cache. */
    forgetHost(orgId: string, hostId: string) {
      const org = orgs.get(orgId);
      if (org) enqueue({ kind: "task", run: () => Promise.resolve(void org.plans.delete(hostId)) });
    },

    /** Rules of an organization changed: rebuild them (keeping subject states) on the worker. */
    invalidate(orgId: string) {
      const org = orgs.get(orgId);
      if (org) enqueue({ kind: "task", run: () => reloadRules(org) });
    },

    /** Runs `fn` on the worker, after everything queued before it. */
    task(fn: () => Promise<void>): Promise<void> {
      return new Promise((resolve, reject) =>
        enqueue({ kind: "task", run: () => fn().then(resolve, reject) })
      );
    },

    /** Resolves once no batch is waiting for its plan and the worker is empty (tests, shutdown). */
    async idle(): Promise<void> {
      for (let i = 0; i < 1000; i++) {
        if (draining) await draining;
        else if (waiting.size || loading.size) await new Promise((r) => setTimeout(r, 1));
        else return;
      }
    },
  };
}

export type AlertEngine = ReturnType<typeof createAlertEngine>;
export type { FireInfo, OrgState };
