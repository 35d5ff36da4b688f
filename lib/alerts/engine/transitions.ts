/**
 * State changes as the rest of the engine and the rule kinds make them: each sets the subject's
 * state in memory at once (so the next input sees it) and queues the write on the worker.
 * `contextFor` binds them to one organization as the `RuleContext` rule kinds act through.
 */
import type { Clock } from "../../util/clock.ts";
import type { CompiledRule } from "../compile.ts";
import type { FireInfo } from "../describe.ts";
import type { RuleContext } from "../kinds/kind.ts";
import type { OrgState, StateCache } from "./cache.ts";
import type { Op, SyncOp } from "./worker.ts";
import { snapOf, type Subject, subjectKey } from "./subject.ts";

/** Creates the transitions over the cache and the worker's queue. */
export function createTransitions(deps: {
  clock: Clock;
  cache: StateCache;
  enqueue(op: Op): void;
}) {
  const { clock, cache, enqueue } = deps;

  /** Persists a pending/ok change; one queued write per subject, updated in place. */
  function sync(org: OrgState, subj: Subject): void {
    const q = subj.queuedSync;
    if (q && !q.started) {
      q.snap = snapOf(subj);
      return;
    }
    const op: SyncOp = { kind: "sync", org, subj, snap: snapOf(subj) };
    subj.queuedSync = op;
    enqueue(op);
  }

  /** Moves a subject to firing at `t` (hub time) and queues the alert. */
  function fireNow(
    org: OrgState,
    subj: Subject,
    value: number | null,
    info: FireInfo | (() => Promise<FireInfo>),
    t = clock.now(),
  ): void {
    subj.state = "firing";
    subj.since = t;
    subj.value = value;
    enqueue({ kind: "fire", org, subj, snap: snapOf(subj), info });
  }

  /** Resolves a firing subject, or returns a pending one to ok without an alert. */
  function resolveNow(org: OrgState, subj: Subject, t = clock.now()): void {
    if (subj.state === "pending") {
      subj.state = "ok";
      subj.since = t;
      return sync(org, subj);
    }
    if (subj.state !== "firing") return;
    subj.state = "ok";
    subj.since = t;
    enqueue({ kind: "resolve", org, subj, snap: snapOf(subj) });
  }

  /** Fires an instant alert (OOM kill): recorded as started and ended at once, never resolved. */
  function instant(org: OrgState, subj: Subject, value: number | null, info: FireInfo): void {
    const t = clock.now();
    subj.lastEventAt = t;
    enqueue({
      kind: "instant",
      org,
      subj,
      snap: { state: "ok", since: t, value, lastEventAt: t },
      info,
    });
  }

  /** Queues a notification check for a firing subject (reminder or withheld first). */
  function notify(org: OrgState, subj: Subject, event: "firing" | "reminder"): void {
    enqueue({ kind: "notify", org, subj, event });
  }

  /** The rule kinds' view of one organization at hub time `now`. */
  function contextFor(org: OrgState, now: number): RuleContext {
    return {
      now,
      subject: (rule: CompiledRule, name: string, hostId: string, ctr = "") =>
        cache.subjectOf(org, rule, name, hostId, ctr),
      existing: (rule: CompiledRule, name: string) => org.subjects.get(subjectKey(rule.id, name)),
      each(fn) {
        for (const s of org.subjects.values()) {
          const rule = org.byId.get(s.ruleId);
          if (rule) fn(s, rule);
        }
      },
      fire: (s, value, info, t) => fireNow(org, s, value, info, t),
      resolve: (s) => resolveNow(org, s),
      instant: (s, value, info) => instant(org, s, value, info),
      sync: (s) => sync(org, s),
      hostName: (hostId) => org.plans.get(hostId)?.host.name ?? hostId,
      containerName: (hostId, id) => cache.containerName(hostId, id),
    };
  }

  return { sync, fireNow, resolveNow, instant, notify, contextFor };
}

/** The engine's transitions. */
export type Transitions = ReturnType<typeof createTransitions>;
