import type { HealthResult } from "../../lib/protocol/health.ts";

/**
 * Results waiting for the hub. Bounded: while the hub is away the oldest results go first (the
 * newest say the most about the state now) and are counted, so memory stays flat however long
 * the outage lasts.
 */
export class ResultBuffer {
  #items: HealthResult[] = [];
  #head = 0;
  #dropped = 0;

  constructor(readonly capacity: number) {}

  /** How many results wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Results dropped so far because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds one result, dropping the oldest when full. */
  push(r: HealthResult): void {
    if (this.size >= this.capacity) {
      this.#head++;
      this.#dropped++;
    }
    this.#items.push(r);
    // Compact now and then rather than shifting on every drop.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The oldest `n` results, still kept until `take(n)` confirms they went out. */
  peek(n: number): HealthResult[] {
    return this.#items.slice(this.#head, this.#head + n);
  }

  /** Removes the oldest `n` results. */
  take(n: number): void {
    this.#head += Math.min(n, this.size);
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
  }
}
