/** Time for the sampler and reporter: wall time for sample stamps, monotonic time for scheduling. */

/** The time sources and the one way of waiting that the metrics loops use (tests inject a fake). */
export interface MetricsClock {
  /** Wall time, ms since the epoch (what samples are stamped with). */
  now(): number;
  /** Monotonic ms (what ticks are scheduled on, immune to the wall clock being set). */
  monotonic(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clocks and timers. */
export const systemClock: MetricsClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};

/** A clock that moves only when told to (tests of scheduling). */
export class FakeClock implements MetricsClock {
  #mono = 0;
  #timers: { at: number; resolve: () => void }[] = [];

  constructor(readonly wallBase = 1_700_000_000_000) {}

  /** Wall time: the base plus the monotonic time. */
  now(): number {
    return this.wallBase + this.#mono;
  }

  /** Monotonic ms since the clock was made. */
  monotonic(): number {
    return this.#mono;
  }

  /** Resolves when the clock is advanced past `ms` from now, or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = { at: this.#mono + Math.max(0, ms), resolve };
      this.#timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      }, { once: true });
    });
  }

  /** Moves time without firing timers (a collector that "takes" this long, synchronously). */
  spend(ms: number): void {
    this.#mono += ms;
  }

  /** Moves time forward by `ms`, firing timers in order and letting their callers run. */
  async advance(ms: number): Promise<void> {
    const end = this.#mono + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#mono = Math.max(this.#mono, due.at);
      due.resolve();
    }
    this.#mono = Math.max(this.#mono, end);
    await settle();
  }
}

/** Lets pending promise chains run (a few macrotask turns). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
