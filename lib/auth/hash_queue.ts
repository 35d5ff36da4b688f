/**
 * A bounded queue in front of password hashing. PBKDF2 with 600,000 iterations costs ~70 ms of
 * CPU; a sign-in storm hashing hundreds at once takes every core and starves everything else the
 * hub does (`/healthz` went from 7 ms to 1 s). Hashes run `concurrency` at a time, callers beyond
 * that wait in order, and beyond `maxWaiting` they are turned away at once with 503.
 */
import { Unavailable } from "../errors.ts";

/** Options of `createHashQueue`. */
export interface HashQueueOptions {
  /** Hashes running at once. Default 1, which leaves the other core(s) to the hub. */
  concurrency?: number;
  /** Callers that may wait; the next one gets 503. Default 64 (about 5 s of hashing). */
  maxWaiting?: number;
}

/** Runs hash work through a bounded FIFO; see the module comment. */
export function createHashQueue(options: HashQueueOptions = {}) {
  const concurrency = options.concurrency ?? 1;
  const maxWaiting = options.maxWaiting ?? 64;
  const waiting: (() => void)[] = [];
  let running = 0;

  return {
    /** Runs `work` when a slot is free; throws 503 when too many are already waiting. */
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running >= concurrency) {
        if (waiting.length >= maxWaiting) {
          throw new Unavailable(
            "The hub is busy checking other passwords; try again in a few seconds",
            "busy",
          );
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running++;
      try {
        return await work();
      } finally {
        // Hand the slot straight to the next caller, so `running` never dips and lets a newcomer jump the queue.
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
    /** Hashes running and callers waiting, for tests and monitoring. */
    stats(): { running: number; waiting: number } {
      return { running, waiting: waiting.length };
    },
  };
}

export type HashQueue = ReturnType<typeof createHashQueue>;
