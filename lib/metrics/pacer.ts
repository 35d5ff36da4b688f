/**
 * Sharing the hub's one thread with long background work (rollups, retention deletes). On SQLite
 * every query runs synchronously and its promise resolves at once, so a loop of thousands of
 * queries never reaches the event loop: ingest acks and live updates wait for all of it. Such work
 * goes in small steps, and after a slice of steps it yields to the event loop — and keeps yielding
 * while the loop is busy with other work (requests, timers) until it is quiet again, up to a floor
 * share of the thread, so background work takes the thread when it is idle and never starves.
 */

/** How background work is paced; every field has a default. */
export interface Pacing {
  /** Rows read and written per slice before yielding; default 1000. */
  sliceRows?: number;
  /** Time per slice before yielding, ms; default 2. */
  sliceMs?: number;
  /** A yield that took longer than this means other work ran in it: yield again; default 3 ms. */
  busyLagMs?: number;
  /**
   * Least share of the thread the work keeps however busy the loop is: the wait after a slice is
   * at most the slice's length × (1 / share − 1); default 0.1. A floor, so work on a machine
   * slowed by other processes (where every yield comes back late) still keeps up.
   */
  minShare?: number;
  /**
   * Hands the thread back until the event loop has had a turn. A timer by default: in Deno,
   * setImmediate and MessageChannel continuations run before pending sockets are polled, so only a
   * timer lets waiting requests in.
   */
  pause?: () => Promise<void>;
  /** Monotonic ms for slice lengths; performance.now() by default. */
  monotonic?: () => number;
}

/** Counts one piece of work's steps and yields when a slice is used up. */
export interface Pacer {
  /** Records a step that touched `rows` rows; yields first if the slice is used up. */
  step(rows: number): Promise<void>;
  /** Slices so far (one more than the times it yielded). */
  readonly slices: number;
}

/** A pacer for one run of background work. */
export function createPacer(p: Pacing = {}): Pacer {
  const sliceRows = p.sliceRows ?? 1000;
  const sliceMs = p.sliceMs ?? 2;
  const busyLagMs = p.busyLagMs ?? 3;
  const minShare = p.minShare ?? 0.1;
  const pause = p.pause ?? (() => new Promise<void>((r) => setTimeout(r, 0)));
  const monotonic = p.monotonic ?? (() => performance.now());
  let rows = 0;
  let slices = 1;
  let sliceStart = monotonic();
  return {
    get slices() {
      return slices;
    },
    async step(n) {
      rows += n;
      const waitStart = monotonic();
      const worked = waitStart - sliceStart;
      if (rows < sliceRows && worked < sliceMs) return;
      const maxPause = worked * (1 / minShare - 1);
      // An idle loop: one quick turn and on. After a busy turn, two quick ones in a row: a
      // request between two steps of its own (waiting on a socket) leaves one quick turn.
      let needed = 1;
      for (;;) {
        const t = monotonic();
        await pause();
        const now = monotonic();
        if (now - t < busyLagMs) needed--;
        else needed = 2;
        if (needed <= 0 || now - waitStart >= maxPause) break;
      }
      slices++;
      rows = 0;
      sliceStart = monotonic();
    },
  };
}
