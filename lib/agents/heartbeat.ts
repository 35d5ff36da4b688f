/**
 * A host agent's heartbeat as pages show it: the last sign of life on its connection (the hub
 * stores each pong, hello, snapshot and container event as `hosts.last_seen_at`), how old it is,
 * and whether that is older than CAPSTAN_WORKER_HEARTBEAT_TIMEOUT (unhealthy).
 */

/** One agent's heartbeat at a moment. */
export interface Heartbeat {
  /** Hub time of the last heartbeat; null when the agent was never heard from. */
  at: number | null;
  /** How long ago that was, ms (null: never). */
  ageMs: number | null;
  /** Silent for longer than the timeout, or never heard from. */
  unhealthy: boolean;
}

/** Judges a heartbeat stored at `lastSeenAt` at hub time `now` against `timeoutMs`. */
export function heartbeatOf(lastSeenAt: number | null, now: number, timeoutMs: number): Heartbeat {
  if (lastSeenAt === null) return { at: null, ageMs: null, unhealthy: true };
  const ageMs = Math.max(0, now - lastSeenAt);
  return { at: lastSeenAt, ageMs, unhealthy: ageMs > timeoutMs };
}
