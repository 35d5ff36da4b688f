import type { Logger } from "../log.ts";
import { createBackoff } from "../../agent/backoff.ts";

/** One change to apply for a host (a snapshot, a container event, going offline). */
export interface UpdateStep {
  /** What the step does, for the log ("event start", "snapshot"). */
  what: string;
  /** Applies the change; must be safe to run again (a timed-out attempt is retried). */
  run(): Promise<void>;
  /** At least this long per attempt (a step that also waits for the agent, a large snapshot). */
  timeoutMs?: number;
  /** Replaces the host's whole state (a snapshot): once it lands nothing before it matters. */
  whole?: boolean;
  /** A snapshot the hub asked for: one pending at a time is enough. */
  resync?: boolean;
}

/** What a host's queue needs: where to log, and how to ask for a fresh snapshot. */
export interface UpdateQueueOptions {
  hostId: string;
  log: Logger;
  /**
   * Called when the queue's view may have drifted from the engine: the database answered again
   * after failures, a timed-out attempt finished late (and may have written older state over
   * newer), or the queue overflowed. The caller pushes a resync step.
   */
  onDrift(): void;
  /**
   * An attempt that takes longer is given up and retried (default 5 s). Each timeout doubles it
   * (up to 60 s) and each success takes a tenth off again, so a database that is slow rather than
   * gone gets the time it needs instead of a retry loop.
   */
  timeoutMs?: number;
  /** Retry delays after a failure: full-jitter exponential (default 250 ms doubling to 2 s). */
  backoff?: { baseMs: number; capMs: number };
  /** Pending steps beyond this are dropped in favour of one resync (default 2000). */
  maxPending?: number;
}

/** A per-host queue of cache updates; see createUpdateQueue. */
export interface UpdateQueue {
  push(step: UpdateStep): void;
  /** Steps waiting or running. */
  readonly size: number;
  /** Resolves once nothing is waiting or running (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops retrying; pending steps are dropped. */
  close(): void;
}

class StepTimeout extends Error {}

const MAX_TIMEOUT_MS = 60_000;

/**
 * Applies a host's cache updates one at a time, in order (a snapshot and the events after it must
 * not overtake each other), and survives a database that stops answering: every attempt has a
 * timeout — a PostgreSQL restart can leave a query waiting forever on a connection that died —
 * and a failed or timed-out step is logged and retried with back-off instead of being dropped.
 * Once the database answers again the owner is asked for a fresh snapshot (onDrift), because a
 * timed-out attempt may still land later and events may have been missed meanwhile.
 */
export function createUpdateQueue(o: UpdateQueueOptions): UpdateQueue {
  const baseTimeoutMs = o.timeoutMs ?? 5000;
  let timeoutMs = baseTimeoutMs;
  const maxPending = o.maxPending ?? 2000;
  const backoff = createBackoff({
    baseMs: o.backoff?.baseMs ?? 250,
    capMs: o.backoff?.capMs ?? 2000,
  });
  const pending: UpdateStep[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  let failures = 0;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  /** One attempt; throws on failure or timeout. */
  async function attempt(step: UpdateStep): Promise<void> {
    const limit = Math.max(step.timeoutMs ?? 0, timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const work = step.run();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepTimeout(`no answer within ${limit / 1000} s`)),
        limit,
      );
    });
    try {
      await Promise.race([work, expired]);
    } catch (err) {
      if (err instanceof StepTimeout) {
        timeoutMs = Math.min(MAX_TIMEOUT_MS, timeoutMs * 2);
        // The attempt may still complete, after newer state was written: reconcile if it does.
        work.then(() => {
          if (closed) return;
          o.log.warn("agent update: a timed-out attempt completed late; resyncing", {
            hostId: o.hostId,
            step: step.what,
          });
          o.onDrift();
        }, () => {});
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function drain(): Promise<void> {
    while (pending.length && !closed) {
      const step = pending[0];
      try {
        await attempt(step);
      } catch (err) {
        if (closed) break;
        failures++;
        const wait = backoff.next();
        // Attempts 1, 2, 4, 8, …: an outage is visible at once without a line every 2 s.
        const logged = (failures & (failures - 1)) === 0;
        if (logged) {
          o.log.warn("agent update failed; retrying", {
            hostId: o.hostId,
            step: step.what,
            attempt: failures,
            retry_in_ms: wait,
            pending: pending.length,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        await pause(wait);
        continue;
      }
      pending.shift();
      timeoutMs = Math.max(baseTimeoutMs, Math.round(timeoutMs * 0.9));
      if (failures) {
        // A snapshot that landed is the whole state already; after anything else, ask for one.
        o.log.info(
          `agent updates: the database answers again${step.whole ? "" : "; resyncing the host"}`,
          { hostId: o.hostId, failed_attempts: failures, pending: pending.length },
        );
        failures = 0;
        backoff.reset();
        if (!step.whole) o.onDrift();
      }
    }
  }

  return {
    push(step) {
      if (closed) return;
      // A resync that has not started yet will read the newest state anyway.
      if (step.resync && pending.some((s, i) => s.resync && i > 0)) return;
      if (pending.length >= maxPending && !step.resync) {
        // Bounded: a fresh snapshot supersedes every queued change (and this one), so they go.
        const dropped = pending.length;
        pending.splice(1);
        o.log.warn("agent updates: queue full; dropping queued changes for a fresh snapshot", {
          hostId: o.hostId,
          dropped,
        });
        o.onDrift();
        return;
      }
      pending.push(step);
      if (!running) {
        running = drain().finally(() => (running = undefined));
      }
    },
    get size() {
      return pending.length;
    },
    async idle() {
      while (running) await running;
    },
    close() {
      closed = true;
      pending.length = 0;
      wake?.();
    },
  };
}
