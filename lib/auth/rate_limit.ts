import type { Clock } from "../util/clock.ts";

/**
 * Counts failures per key in a fixed window and refuses after `max`. In memory and bounded: the
 * oldest keys go first when `maxKeys` is reached. Per replica, which is enough to make guessing
 * slow; a shared store would only tighten it.
 */
export function createFailureLimiter(
  clock: Clock,
  opts: { max: number; windowMs: number; maxKeys?: number },
) {
  const maxKeys = opts.maxKeys ?? 10_000;
  const entries = new Map<string, { count: number; resetAt: number }>();

  function live(key: string) {
    const e = entries.get(key);
    if (e && e.resetAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }

  return {
    /** Milliseconds until `key` may try again, or 0 when it may now. */
    retryAfter(key: string): number {
      const e = live(key);
      return e && e.count >= opts.max ? e.resetAt - clock.now() : 0;
    },
    fail(key: string): void {
      const e = live(key);
      if (e) e.count++;
      else {
        if (entries.size >= maxKeys) entries.delete(entries.keys().next().value!);
        entries.set(key, { count: 1, resetAt: clock.now() + opts.windowMs });
      }
    },
    reset(key: string): void {
      entries.delete(key);
    },
  };
}

export type FailureLimiter = ReturnType<typeof createFailureLimiter>;
