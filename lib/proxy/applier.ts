/**
 * Applies the proxy's config at most once per interval however many changes arrive: the first
 * change after a quiet spell is applied at once (a single route edit reaches Caddy in one load),
 * changes that arrive while a load runs or within the interval after it wait and go out together
 * in the next one. So a redeploy storm of a hundred apps makes a handful of loads, not a hundred.
 * Each caller learns the outcome of the load that carried its change.
 */

/** What a load ended with. */
export interface ApplyOutcome {
  ok: boolean;
  /** When the load finished (ms since the epoch). */
  at: number;
  /** The proxy's refusal or why it could not be reached, in its own words. */
  error?: string;
}

/** Schedules applies; `request()` resolves with the outcome of the load carrying the request. */
export interface Applier {
  request(): Promise<ApplyOutcome>;
  /** The last outcome, or null before the first load. */
  last(): ApplyOutcome | null;
  /** Waits for the loads in flight and stops the timer. */
  close(): Promise<void>;
}

export function createApplier(opts: {
  apply: () => Promise<void>;
  now?: () => number;
  /** Minimum time between the starts of two loads. */
  intervalMs?: number;
}): Applier {
  const now = opts.now ?? Date.now;
  const intervalMs = opts.intervalMs ?? 250;
  let waiting: ((o: ApplyOutcome) => void)[] = [];
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastStart = -Infinity;
  let lastOutcome: ApplyOutcome | null = null;
  let closed = false;

  function kick() {
    if (closed || running || timer !== null || !waiting.length) return;
    const wait = Math.max(0, lastStart + intervalMs - now());
    timer = setTimeout(() => {
      timer = null;
      running = run().finally(() => {
        running = null;
        kick();
      });
    }, wait);
  }

  async function run() {
    const batch = waiting;
    waiting = [];
    lastStart = now();
    let outcome: ApplyOutcome;
    try {
      await opts.apply();
      outcome = { ok: true, at: now() };
    } catch (e) {
      outcome = { ok: false, at: now(), error: e instanceof Error ? e.message : String(e) };
    }
    lastOutcome = outcome;
    for (const resolve of batch) resolve(outcome);
  }

  return {
    request() {
      return new Promise<ApplyOutcome>((resolve) => {
        waiting.push(resolve);
        kick();
      });
    },
    last: () => lastOutcome,
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
      const left = waiting;
      waiting = [];
      for (const resolve of left) resolve({ ok: false, at: now(), error: "the hub is stopping" });
    },
  };
}
