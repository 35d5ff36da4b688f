/**
 * The engine's state cache: per organization its compiled rules, the subjects' states, and per
 * host a plan (which rules read which series) built from the host's facts. Facts come through
 * `AlertFacts` (never another module's tables) and are re-read after `PLAN_TTL_MS`, in the
 * background, while the stale plan keeps serving the hot path.
 */
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../log.ts";
import type { RuleStore } from "../rules.ts";
import type { StateStore } from "../state_store.ts";
import type { AlertFacts, HostInfo } from "../facts.ts";
import { type CompiledRule, compileRule, ruleCoversHost } from "../compile.ts";
import { adopt, freshSubject, type Subject, subjectFromRow, subjectKey } from "./subject.ts";

/** Host facts (labels, name) are re-read this often; a stale plan keeps serving meanwhile. */
export const PLAN_TTL_MS = 60_000;
/** A host without a connection here and without a report for this long counts as down for muting. */
const DOWN_AFTER_MS = 60_000;

/** A metric rule and the subject it evaluates for one series. */
export interface Entry {
  rule: CompiledRule;
  subj: Subject;
}

/** The rules covering one host, split by what feeds them, and the series → entries memo. */
export interface HostPlan {
  host: HostInfo;
  fetchedAt: number;
  metric: CompiledRule[];
  container: CompiledRule[];
  events: CompiledRule[];
  byKey: Map<string, Entry[]>;
  byCtr: Map<string, Entry[]>;
}

/** One organization in memory. */
export interface OrgState {
  id: string;
  slug: string;
  rules: CompiledRule[];
  byId: Map<string, CompiledRule>;
  subjects: Map<string, Subject>;
  plans: Map<string, HostPlan>;
  /** Hosts with a firing host_offline alert: their containers' alerts are muted. */
  offline: Set<string>;
}

/** What the cache reads through. */
export interface CacheDeps {
  clock: Clock;
  log: Logger;
  rules: RuleStore;
  states: StateStore;
  facts: Pick<AlertFacts, "host" | "orgSlug" | "containerName">;
  /** Whether a host's agent is connected to this process. */
  isOnline(hostId: string): boolean;
}

/** Creates the cache; see the module comment. */
export function createStateCache(deps: CacheDeps) {
  const { clock, log, states, facts } = deps;
  const orgs = new Map<string, OrgState>();
  const loading = new Map<string, Promise<OrgState>>();
  const refreshing = new Set<string>();
  /** Hub time of the last report of each host seen by this process. */
  const lastReport = new Map<string, number>();

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

  /** Recompiles an organization's rules, keeping the subjects of rules that still exist. */
  async function reloadRules(org: OrgState): Promise<void> {
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

  /** An organization's state, loaded once (concurrent callers share the load). */
  async function loadOrg(orgId: string): Promise<OrgState> {
    const have = orgs.get(orgId);
    if (have) return have;
    let p = loading.get(orgId);
    if (!p) {
      p = (async () => {
        const org: OrgState = {
          id: orgId,
          slug: await facts.orgSlug(orgId) ?? orgId,
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

  /** A host's plan, built from fresh facts when it has none or it is older than the TTL. */
  async function planFor(org: OrgState, hostId: string): Promise<HostPlan | undefined> {
    const have = org.plans.get(hostId);
    if (have && clock.now() - have.fetchedAt < PLAN_TTL_MS) return have;
    const host = await facts.host(hostId);
    if (!host || host.org_id !== org.id) return undefined;
    const plan = buildPlan(org, host);
    org.plans.set(hostId, plan);
    return plan;
  }

  /** Re-reads a host's facts in the background; the stale plan keeps serving until then. */
  function refreshPlan(org: OrgState, hostId: string): void {
    if (refreshing.has(hostId)) return;
    refreshing.add(hostId);
    facts.host(hostId).then((host) => {
      if (!host) org.plans.delete(hostId);
      else org.plans.set(hostId, buildPlan(org, host));
    }).catch((e) => log.warn("alerts: host refresh failed", { hostId, error: String(e) }))
      .finally(() => refreshing.delete(hostId));
  }

  /** The subject of (rule, subject), created in state ok when the organization has none yet. */
  function subjectOf(
    org: OrgState,
    rule: CompiledRule,
    subject: string,
    hostId: string,
    ctr = "",
  ): Subject {
    const key = subjectKey(rule.id, subject);
    let s = org.subjects.get(key);
    if (!s) {
      s = freshSubject(rule.id, subject, hostId, ctr);
      org.subjects.set(key, s);
    }
    return s;
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

  /** A container's name for an alert: the cache's, else the short id. */
  async function containerName(hostId: string, id: string): Promise<string> {
    return (await facts.containerName(hostId, id))?.replace(/^\//, "") ?? id.slice(0, 12);
  }

  return {
    /** Loaded organizations (the hot path reads them without waiting). */
    orgs,
    /** Organizations being loaded (`idle` waits for them). */
    loading,
    lastReport,
    loadOrg,
    reloadRules,
    planFor,
    refreshPlan,
    subjectOf,
    hostDown,
    containerName,
  };
}

/** The engine's state cache. */
export type StateCache = ReturnType<typeof createStateCache>;
