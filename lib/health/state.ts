/**
 * The health state machine, kept on the hub (agents only measure). A state changes only after
 * `retries` consecutive results of the other kind, so one lost packet does not flap a check and
 * one lucky answer does not end an outage; a fresh check (unknown) becomes healthy on its first
 * success. Results inside the start delay (after the check is created or its container starts)
 * are stored but do not count, and results older than the last one counted are replays.
 */
import type { CheckState } from "./schema.ts";

/** The part of a check the machine reads and writes. */
export interface MachineState {
  state: CheckState;
  state_since: number;
  consecutive_failures: number;
  consecutive_successes: number;
  /** Newest result seen (ms), or null: anything at or before it is a replay. */
  last_at: number | null;
}

/** One step's outcome: the new state, and the change when there was one. */
export interface Step {
  next: MachineState;
  change: { from: CheckState; to: CheckState } | null;
  /** Whether the result moved the counters (outside the start delay, not a replay). */
  counted: boolean;
}

/** Applies one result. */
export function stepHealth(
  s: MachineState,
  check: { retries: number; start_delay_s: number; started_at: number },
  r: { at: number; ok: boolean },
): Step {
  if (s.last_at !== null && r.at <= s.last_at) return { next: s, change: null, counted: false };
  if (r.at < check.started_at + check.start_delay_s * 1000) {
    return { next: { ...s, last_at: r.at }, change: null, counted: false };
  }
  const next: MachineState = {
    ...s,
    last_at: r.at,
    consecutive_successes: r.ok ? s.consecutive_successes + 1 : 0,
    consecutive_failures: r.ok ? 0 : s.consecutive_failures + 1,
  };
  const need = Math.max(1, check.retries);
  let to: CheckState | null = null;
  if (r.ok && s.state !== "healthy") {
    if (s.state === "unknown" || next.consecutive_successes >= need) to = "healthy";
  } else if (!r.ok && s.state !== "unhealthy" && next.consecutive_failures >= need) {
    to = "unhealthy";
  }
  if (!to) return { next, change: null, counted: true };
  next.state = to;
  next.state_since = r.at;
  return { next, change: { from: s.state, to }, counted: true };
}
