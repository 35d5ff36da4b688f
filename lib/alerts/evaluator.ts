/**
 * The alert state machine of one (rule, subject), fed 1 s samples. Pure: no I/O, no clock; every
 * decision is made on the samples' own timestamps, so a batch that arrives late (an agent draining
 * its spool) is judged exactly as if it had arrived live.
 *
 *   ok ──beyond trigger──▶ pending ──still beyond after hold──▶ firing ──beyond clear──▶ ok
 *    ▲                        │ back within trigger                (resolved)
 *    └────────────────────────┘ (recovered: never notified)
 *
 * Hysteresis: a firing subject resolves only past the clear threshold, so a value oscillating
 * around the trigger neither resolves nor re-fires; a pending one recovers silently.
 */

/** ok, pending (beyond the trigger, hold not yet met) or firing. */
export type AlertState = "ok" | "pending" | "firing";

/** What a sample did to a subject's state. */
export type Transition = "pending" | "recovered" | "firing" | "resolved";

/** A metric rule's thresholds in evaluator units (ms). */
export interface ThresholdSpec {
  op: ">" | "<";
  trigger: number;
  /** The hysteresis threshold: a firing subject resolves only once the value crosses it. */
  clear: number;
  holdMs: number;
  mode: "instant" | "avg";
  windowMs: number;
}

/** Per-subject state: the persisted part (state, since, value) and the sample history it needs. */
export interface SubjectState {
  state: AlertState;
  /** When the current state began (sample time). */
  since: number;
  /** The value last evaluated (the average in avg mode). */
  value: number | null;
  /** Time of the last sample seen; older or equal samples are ignored. */
  lastT: number;
  /** Start of the current run of samples without a gap (avg coverage). */
  runStart: number;
  /** Sliding window for avg mode. */
  win?: { t: number[]; v: number[]; head: number; sum: number };
}

/** Samples further apart than this break the run: a hold or an average does not span a gap. */
export const MAX_GAP_MS = 60_000;
/** An average over less than this share of its window is not trusted yet. */
export const MIN_WINDOW_COVERAGE = 0.9;

/** A fresh subject in state ok. */
export function newSubject(): SubjectState {
  return { state: "ok", since: 0, value: null, lastT: -Infinity, runStart: -Infinity };
}

const beyond = (op: ">" | "<", v: number, threshold: number) =>
  op === ">" ? v > threshold : v < threshold;

function average(spec: ThresholdSpec, st: SubjectState, t: number, v: number): number | null {
  const w = st.win ??= { t: [], v: [], head: 0, sum: 0 };
  w.t.push(t);
  w.v.push(v);
  w.sum += v;
  while (w.head < w.t.length && w.t[w.head] <= t - spec.windowMs) {
    w.sum -= w.v[w.head];
    w.head++;
  }
  // Compact now and then so the arrays do not grow with the stream.
  if (w.head > 256 && w.head * 2 > w.t.length) {
    w.t = w.t.slice(w.head);
    w.v = w.v.slice(w.head);
    w.head = 0;
    w.sum = w.v.reduce((a, b) => a + b, 0);
  }
  if (t - st.runStart < spec.windowMs * MIN_WINDOW_COVERAGE) return null;
  return w.sum / (w.t.length - w.head);
}

/**
 * Feeds one sample; returns the transition it caused, if any. Samples not newer than the last one
 * are ignored (a retried or reordered batch cannot move the state backwards).
 */
export function step(
  spec: ThresholdSpec,
  st: SubjectState,
  t: number,
  v: number,
): Transition | null {
  if (t <= st.lastT) return null;
  if (t - st.lastT > MAX_GAP_MS) {
    st.runStart = t;
    if (st.win) st.win = undefined;
    // A pending hold does not survive a gap: nobody saw the value stay beyond the trigger.
    if (st.state === "pending") st.since = t;
  }
  st.lastT = t;
  const value = spec.mode === "avg" ? average(spec, st, t, v) : v;
  if (value === null) return null;
  st.value = value;
  switch (st.state) {
    case "ok":
      if (!beyond(spec.op, value, spec.trigger)) return null;
      st.since = t;
      st.state = spec.holdMs > 0 ? "pending" : "firing";
      return st.state === "pending" ? "pending" : "firing";
    case "pending":
      if (!beyond(spec.op, value, spec.trigger)) {
        st.state = "ok";
        st.since = t;
        return "recovered";
      }
      if (t - st.since < spec.holdMs) return null;
      st.state = "firing";
      st.since = t;
      return "firing";
    case "firing": {
      // Resolved only past the clear threshold (strictly), the other way from the trigger.
      const cleared = spec.op === ">" ? value < spec.clear : value > spec.clear;
      if (!cleared) return null;
      st.state = "ok";
      st.since = t;
      return "resolved";
    }
  }
}

/** Quiet hours: minutes of the day [start, end) in a fixed UTC offset; start > end spans midnight. */
export interface QuietHours {
  start: number;
  end: number;
  tzOffsetMin: number;
}

/** Whether `now` (ms) falls in the quiet hours; equal start and end mean none. */
export function inQuietHours(q: QuietHours | null, now: number): boolean {
  if (!q || q.start === q.end) return false;
  const minute = (((Math.floor(now / 60_000) + q.tzOffsetMin) % 1440) + 1440) % 1440;
  return q.start < q.end
    ? minute >= q.start && minute < q.end
    : minute >= q.start || minute < q.end;
}

/** Why a notification is withheld, or null when it may go out. */
export type Withheld = "quiet_hours" | "silenced" | "acknowledged" | "muted" | null;

/**
 * The notification gate. Quiet hours, silences and acknowledgements hold back notifications only;
 * the state machine runs on regardless. A muted alert is about a container of an offline host.
 */
export function withheld(
  o: {
    quiet: QuietHours | null;
    silencedUntil: number | null;
    acknowledged: boolean;
    muted: boolean;
    event: "firing" | "resolved" | "reminder";
  },
  now: number,
): Withheld {
  if (o.muted) return "muted";
  if (o.silencedUntil !== null && now < o.silencedUntil) return "silenced";
  if (o.acknowledged && o.event === "reminder") return "acknowledged";
  if (inQuietHours(o.quiet, now)) return "quiet_hours";
  return null;
}

/**
 * Whether a firing subject is due a notification now: its first one when that was withheld (it
 * goes out once the reason passes, e.g. quiet hours end), else a reminder every `repeatMs`.
 */
export function notificationDue(
  st: { state: AlertState; lastNotifiedAt: number | null },
  repeatMs: number,
  now: number,
): "firing" | "reminder" | null {
  if (st.state !== "firing") return null;
  if (st.lastNotifiedAt === null) return "firing";
  return repeatMs > 0 && now - st.lastNotifiedAt >= repeatMs ? "reminder" : null;
}

/** Event times (ms) within the last `windowMs` before `t`, oldest first; drops older ones in place. */
export function pruneWindow(times: number[], t: number, windowMs: number): number[] {
  let i = 0;
  while (i < times.length && times[i] <= t - windowMs) i++;
  if (i) times.splice(0, i);
  return times;
}
