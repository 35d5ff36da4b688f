/** Fakes shared by the realtime unit tests: a socket whose buffer the test controls, and manual timers. */
import type { Principal } from "../auth/principal.ts";
import type { QueueSocket, Timers } from "./client_queue.ts";

/** The signed-in user of the hub tests. */
export const alice: Principal = {
  kind: "session",
  userId: "u-alice",
  email: "alice@example.com",
  name: "Alice",
  isAdmin: false,
  credentialId: "s1",
};

/** A socket that records what was sent; `bufferedAmount` grows per send only when `accumulate` is set. */
export class FakeSocket implements QueueSocket {
  sent: string[] = [];
  bufferedAmount = 0;
  readyState = 1;
  closedWith: { code: number; reason: string } | undefined;
  constructor(public accumulate = false) {}

  send(data: string): void {
    // Like Deno's WebSocket: sending on a socket that is not open throws.
    if (this.readyState !== 1) throw new DOMException("readyState not OPEN", "InvalidStateError");
    this.sent.push(data);
    if (this.accumulate) this.bufferedAmount += data.length;
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.readyState = 2;
  }

  /** Frames sent so far, parsed. */
  frames(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text));
  }
}

/** Timers that only fire when the test says so. */
export class FakeTimers implements Timers {
  #next = 1;
  pending = new Map<number, { fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.pending.delete(id as number);
  }

  /** Fires the timers pending now (not the ones they schedule); returns how many fired. */
  fire(): number {
    const due = [...this.pending];
    this.pending.clear();
    for (const [, timer] of due) timer.fn();
    return due.length;
  }
}

/** Lets pending promise callbacks and zero-delay timers run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Polls `check` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
