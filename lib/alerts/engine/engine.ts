/**
 * The alert engine, composed: the state cache (cache.ts), metric evaluation on the ingest path
 * (evaluate.ts), the rule kinds fed by agent events, health changes and the tick (../kinds), and
 * one serial worker (worker.ts) that persists every state change with compare-and-set
 * (../state_store.ts), recording alerts and queueing notifications in the same transaction
 * (fire.ts, resolve.ts, notify.ts). Evaluation never waits on the database or on a channel, and
 * one subject's changes stay ordered.
 */
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../log.ts";
import type { StateStore } from "../state_store.ts";
import type { RuleStore } from "../rules.ts";
import type { ChannelStore } from "../channels/store.ts";
import type { Delivery } from "../channels/delivery.ts";
import type { AlertFacts } from "../facts.ts";
import {
  type BuildNotice,
  type CertificateChange,
  type ContainerEvent,
  type EventRuleKind,
  type HealthCheckChange,
  kindOf,
  type NasStatus,
  type QuotaNotice,
  type RuleContext,
  type SecretRestarts,
  type SnapshotFailed,
  type SnapshotVerifyFailed,
  type TasksMoved,
  type WalletNotice,
  type WebhookDisabled,
} from "../kinds/mod.ts";
import type { CompiledRule } from "../compile.ts";
import { containerEventFacts } from "../kinds/kind.ts";
import { createStateCache, type OrgState } from "./cache.ts";
import { createWorker, type SubjectOp, type SyncOp } from "./worker.ts";
import { createTransitions } from "./transitions.ts";
import { createEvaluator } from "./evaluate.ts";
import { adopt, stateWrite, type Subject } from "./subject.ts";
import { type OpContext, runNotify } from "./notify.ts";
import { runFire } from "./fire.ts";
import { runResolve } from "./resolve.ts";
import type { AlertsEvent } from "../../realtime/topics.ts";

/** Dependencies of the engine. */
export interface EngineDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  rules: RuleStore;
  states: StateStore;
  channels: ChannelStore;
  delivery: Delivery;
  /** What the engine reads of other modules (hosts, containers, organizations). */
  facts: Pick<AlertFacts, "host" | "orgSlug" | "containerName">;
  /** Publishes an alert change on `org:<id>:alerts`. */
  publish(orgId: string, data: AlertsEvent): void;
  /** Whether a host's agent is connected to this process. */
  isOnline(hostId: string): boolean;
  publicUrl: string;
}

/** Creates the engine; see the module comment. */
export function createAlertEngine(deps: EngineDeps) {
  const { db, clock, log, states } = deps;
  const cache = createStateCache(deps);
  const ops: OpContext = { ...deps, hostDown: cache.hostDown };
  const worker = createWorker({ log, run, recover: reload });
  const transitions = createTransitions({ clock, cache, enqueue: worker.enqueue });
  const evaluator = createEvaluator({ clock, log, cache, enqueue: worker.enqueue, hostBack });

  async function reload(subj: Subject): Promise<void> {
    adopt(subj, await states.get(subj.ruleId, subj.subject));
  }

  /** Runs one subject op on the worker; a write that lost its race reloads the subject. */
  async function run(op: SubjectOp): Promise<void> {
    const rule = op.org.byId.get(op.subj.ruleId);
    if (!rule) return;
    const now = clock.now();
    const won = op.kind === "sync"
      ? await runSync(op, now)
      : op.kind === "fire" || op.kind === "instant"
      ? await runFire(ops, op, rule, now)
      : op.kind === "resolve"
      ? await runResolve(ops, op, rule, now)
      : await runNotify(ops, op, rule, now);
    if (!won) await reload(op.subj);
  }

  async function runSync(op: SyncOp, now: number): Promise<boolean> {
    const { subj } = op;
    op.started = true;
    if (subj.queuedSync === op) subj.queuedSync = undefined;
    const v = await states.cas(db, stateWrite(subj, op.snap, op.org.id), subj.version, now);
    if (v === null) return false;
    subj.version = v;
    return true;
  }

  /** Hands an organization's input to each of its rules' kinds (inputs about no one host). */
  async function orgWide(
    orgId: string,
    apply: (kind: EventRuleKind, c: RuleContext, rule: CompiledRule) => void,
  ): Promise<void> {
    const org = await cache.loadOrg(orgId);
    const c = transitions.contextFor(org, clock.now());
    for (const rule of org.rules) {
      const kind = kindOf(rule);
      if (kind) apply(kind, c, rule);
    }
  }

  /** A host reported or reconnected: the kinds that wait for that (host offline) resolve. */
  function hostBack(org: OrgState, hostId: string): Promise<void> {
    const c = transitions.contextFor(org, clock.now());
    for (const rule of org.rules) kindOf(rule)?.hostBack?.(c, rule, hostId);
    return Promise.resolve();
  }

  return {
    onBatch: evaluator.onBatch,
    loadOrg: cache.loadOrg,
    hostDown: cache.hostDown,
    /** Hub time of the last report of each host seen by this process. */
    lastReport: cache.lastReport,
    /** The rule kinds' view of an organization at hub time `now`. */
    context: transitions.contextFor,
    notify: transitions.notify,
    task: worker.task,

    /** Applies an agent's container event (received at `now`) to the event rules of its host. */
    async containerEvent(
      host: { id: string; org_id: string },
      e: ContainerEvent,
      now: number,
    ): Promise<void> {
      if (e.type !== "container" || !/^[a-f0-9]{64}$/.test(e.id)) return;
      const org = await cache.loadOrg(host.org_id);
      const plan = await cache.planFor(org, host.id);
      if (!plan || !plan.events.length) return;
      const facts = containerEventFacts(plan.host, e);
      const c = transitions.contextFor(org, now);
      for (const rule of plan.events) kindOf(rule)?.containerEvent?.(c, rule, facts);
    },

    /** Applies a health check's change to the event rules of its host. */
    async healthChange(host: { id: string; org_id: string }, change: HealthCheckChange) {
      const org = await cache.loadOrg(host.org_id);
      const plan = await cache.planFor(org, host.id);
      if (!plan) return;
      const c = transitions.contextFor(org, clock.now());
      for (const rule of plan.events) kindOf(rule)?.healthChange?.(c, rule, plan.host, change);
    },

    /** Applies an app's task moves off a down node to the organization's rules (not per host). */
    async tasksMoved(moved: TasksMoved): Promise<void> {
      const org = await cache.loadOrg(moved.org_id);
      const c = transitions.contextFor(org, clock.now());
      for (const rule of org.rules) kindOf(rule)?.tasksMoved?.(c, rule, moved);
    },

    /** Applies what a secret's rotation did to its apps to the organization's rules (not per host). */
    async secretRestarts(restarts: SecretRestarts): Promise<void> {
      const org = await cache.loadOrg(restarts.org_id);
      const c = transitions.contextFor(org, clock.now());
      for (const rule of org.rules) kindOf(rule)?.secretRestarts?.(c, rule, restarts);
    },

    /** Applies a hostname's certificate change to the organization's rules (not per host). */
    async certificateChange(change: CertificateChange): Promise<void> {
      const org = await cache.loadOrg(change.org_id);
      const c = transitions.contextFor(org, clock.now());
      for (const rule of org.rules) kindOf(rule)?.certificateChange?.(c, rule, change);
    },

    /** Applies a build's or its deployment's stage to the organization's rules (not per host). */
    buildNotice(notice: BuildNotice): Promise<void> {
      return orgWide(notice.org_id, (k, c, rule) => k.buildNotice?.(c, rule, notice));
    },

    /** Applies an app's webhook being disabled to the organization's rules (not per host). */
    webhookDisabled(disabled: WebhookDisabled): Promise<void> {
      return orgWide(disabled.org_id, (k, c, rule) => k.webhookDisabled?.(c, rule, disabled));
    },

    /** Applies a NAS target's check (or removal) to the organization's rules (not per host). */
    nasStatus(status: NasStatus): Promise<void> {
      return orgWide(status.org_id, (k, c, rule) => k.nasStatus?.(c, rule, status));
    },

    /** Applies a failed snapshot or restore to the organization's rules (not per host). */
    snapshotFailed(failed: SnapshotFailed): Promise<void> {
      return orgWide(failed.org_id, (k, c, rule) => k.snapshotFailed?.(c, rule, failed));
    },

    /** Applies a wallet's grace transition to the organization's rules (lib/billing). */
    billingWallet(notice: WalletNotice): Promise<void> {
      return orgWide(notice.org_id, (k, c, rule) => k.billingWallet?.(c, rule, notice));
    },

    /** Applies a quota crossing or a violation's block to the organization's rules (lib/quotas). */
    quotaUsage(notice: QuotaNotice): Promise<void> {
      return orgWide(notice.org_id, (k, c, rule) => k.quotaUsage?.(c, rule, notice));
    },

    /** Applies a failed verification of a storage target to the organization's rules. */
    snapshotVerifyFailed(failed: SnapshotVerifyFailed): Promise<void> {
      return orgWide(failed.org_id, (k, c, rule) => k.snapshotVerifyFailed?.(c, rule, failed));
    },

    /** A host's agent connected: its offline alert ends. */
    async hostOnline(host: { id: string; org_id: string }): Promise<void> {
      await hostBack(await cache.loadOrg(host.org_id), host.id);
    },

    /** A host's facts changed (renamed): its next alert reads them again instead of the cache. */
    forgetHost(orgId: string, hostId: string): void {
      const org = cache.orgs.get(orgId);
      if (org) {
        worker.enqueue({
          kind: "task",
          run: () => Promise.resolve(void org.plans.delete(hostId)),
        });
      }
    },

    /** Rules of an organization changed: rebuild them (keeping subject states) on the worker. */
    invalidate(orgId: string): void {
      const org = cache.orgs.get(orgId);
      if (org) worker.enqueue({ kind: "task", run: () => cache.reloadRules(org) });
    },

    /** Resolves once no batch is waiting for its plan and the worker is empty (tests, shutdown). */
    async idle(): Promise<void> {
      for (let i = 0; i < 1000; i++) {
        const draining = worker.draining();
        if (draining) await draining;
        else if (evaluator.busy() || cache.loading.size) {
          await new Promise((r) => setTimeout(r, 1));
        } else return;
      }
    },
  };
}

/** The alert engine. */
export type AlertEngine = ReturnType<typeof createAlertEngine>;
