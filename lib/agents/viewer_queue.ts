/**
 * The bounded queue between a shared upstream stream and one viewer (a browser tab). The upstream
 * never waits for a viewer: messages are pushed without blocking, and a viewer whose queue is full
 * (too many messages or too many bytes) is ended with a reason instead, so one stalled tab cannot
 * hold memory or slow the other viewers of the same stream.
 */

/** Why a viewer's stream ended; `code` is stable for clients, `reason` is for people. */
export interface EndReason {
  code: "ended" | "host_offline" | "not_found" | "slow_consumer" | "closed" | "error" | "shutdown";
  reason: string;
}

/** Limits of one viewer's queue. */
export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
}

/** A message plus its approximate size, which the byte limit counts. */
interface Entry<T> {
  value: T;
  bytes: number;
}

/** One viewer's end of a shared stream: iterate it for messages; it ends with `endReason` set. */
export class ViewerQueue<T> implements AsyncIterable<T> {
  #items: Entry<T>[] = [];
  #bytes = 0;
  #wake: (() => void) | undefined;
  #end: EndReason | undefined;
  readonly #limits: QueueLimits;
  readonly #onEnd: (q: ViewerQueue<T>) => void;

  constructor(limits: QueueLimits, onEnd: (q: ViewerQueue<T>) => void) {
    this.#limits = limits;
    this.#onEnd = onEnd;
  }

  /** Why the stream ended, once it has. */
  get endReason(): EndReason | undefined {
    return this.#end;
  }

  /** Messages waiting to be read. */
  get queued(): number {
    return this.#items.length;
  }

  /** Adds a message; a viewer over its limits is ended as too slow (the upstream goes on). */
  push(value: T, bytes: number): void {
    if (this.#end) return;
    if (
      this.#items.length >= this.#limits.maxMessages || this.#bytes + bytes > this.#limits.maxBytes
    ) {
      this.end({
        code: "slow_consumer",
        reason: "This viewer fell behind the stream and was disconnected",
      });
      return;
    }
    this.#items.push({ value, bytes });
    this.#bytes += bytes;
    this.#wake?.();
  }

  /**
   * Ends the stream. A slow viewer's backlog is dropped at once (that is the point of dropping it);
   * otherwise what is queued is still delivered before the iteration ends.
   */
  end(reason: EndReason): void {
    if (this.#end) return;
    this.#end = reason;
    if (reason.code === "slow_consumer" || reason.code === "closed") {
      this.#items = [];
      this.#bytes = 0;
    }
    this.#wake?.();
    this.#onEnd(this);
  }

  /** The next message, or undefined once the stream has ended and the queue is empty. */
  async next(): Promise<T | undefined> {
    for (;;) {
      const e = this.#items.shift();
      if (e) {
        this.#bytes -= e.bytes;
        return e.value;
      }
      if (this.#end) return undefined;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const v = await this.next();
      if (v === undefined) return;
      yield v;
    }
  }
}
