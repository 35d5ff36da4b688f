/**
 * Reconnect delays: exponential with full jitter (a random delay between 0 and the exponential
 * bound), so a thousand agents that lost the hub at the same moment do not return in step.
 */
export interface Backoff {
  /** The delay before the next attempt, in ms; each call counts one more failure. */
  next(): number;
  /** Forget past failures (after a connection that stayed up). */
  reset(): void;
}

/** A full-jitter exponential backoff from `baseMs` doubling up to `capMs`. */
export function createBackoff(
  opts: { baseMs?: number; capMs?: number; random?: () => number } = {},
): Backoff {
  const base = opts.baseMs ?? 1000;
  const cap = opts.capMs ?? 60_000;
  const random = opts.random ?? Math.random;
  let attempt = 0;
  return {
    next() {
      const bound = Math.min(cap, base * 2 ** Math.min(attempt, 30));
      attempt++;
      // Never 0: a hub that refuses at once must still not be retried in a tight loop.
      return Math.max(50, Math.round(random() * bound));
    },
    reset() {
      attempt = 0;
    },
  };
}
