/**
 * The engine's one serial worker. Every state change is an op queued here and run in order, so
 * evaluation never waits on the database or a channel, and one subject's changes (metric samples,
 * agent events, the periodic tick) are persisted in the order they were made.
 */
import type { Logger } from "../../log.ts";
import type { FireInfo } from "../describe.ts";
import type { OrgState } from "./cache.ts";
import type { Snap, Subject } from "./subject.ts";

/** Persists a pending/ok change only (no alert, no notification). */
export interface SyncOp {
  kind: "sync";
  org: OrgState;
  subj: Subject;
  snap: Snap;
  started?: boolean;
}

/** Records a firing alert (its info looked up off the hot path when a function). */
export interface FireOp {
  kind: "fire";
  org: OrgState;
  subj: Subject;
  snap: Snap;
  info: FireInfo | (() => Promise<FireInfo>);
}

/** Records an alert that starts and ends at once (OOM kill). */
export interface InstantOp {
  kind: "instant";
  org: OrgState;
  subj: Subject;
  snap: Snap;
  info: FireInfo;
}

/** Ends a firing alert. */
export interface ResolveOp {
  kind: "resolve";
  org: OrgState;
  subj: Subject;
  snap: Snap;
}

/** Sends a reminder, or a first notification withheld when the alert fired. */
export interface NotifyOp {
  kind: "notify";
  org: OrgState;
  subj: Subject;
  event: "firing" | "reminder";
}

/** Anything else that must run in order with the state changes. */
export interface TaskOp {
  kind: "task";
  run: () => Promise<void>;
}

/** One unit of the worker's work. */
export type Op = SyncOp | FireOp | InstantOp | ResolveOp | NotifyOp | TaskOp;
/** An op about one subject. */
export type SubjectOp = Exclude<Op, TaskOp>;

/** Creates the worker: `run` does one subject op, `recover` re-reads a subject after a failure. */
export function createWorker(deps: {
  log: Logger;
  run(op: SubjectOp): Promise<void>;
  recover(subj: Subject): Promise<void>;
}) {
  const queue: Op[] = [];
  let draining: Promise<void> | null = null;

  function enqueue(op: Op): void {
    queue.push(op);
    // Started in a microtask: an op that enqueues more while it runs must not start a second drain.
    draining ??= Promise.resolve().then(drain);
  }

  async function drain() {
    while (queue.length) {
      const op = queue.shift()!;
      try {
        if (op.kind === "task") await op.run();
        else await deps.run(op);
      } catch (err) {
        deps.log.error("alerts: state change failed", { kind: op.kind, error: String(err) });
        if (op.kind !== "task") await deps.recover(op.subj).catch(() => {});
      }
    }
    draining = null;
  }

  return {
    enqueue,

    /** Runs `fn` on the worker, after everything queued before it. */
    task(fn: () => Promise<void>): Promise<void> {
      return new Promise((resolve, reject) =>
        enqueue({ kind: "task", run: () => fn().then(resolve, reject) })
      );
    },

    /** The drain in progress, if any. */
    draining: (): Promise<void> | null => draining,
  };
}

/** The engine's worker. */
export type Worker = ReturnType<typeof createWorker>;
