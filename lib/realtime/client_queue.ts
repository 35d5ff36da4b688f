/**
 * A bounded send queue for one WebSocket client, so one slow or stalled reader cannot make the hub
 * hold an unbounded amount of memory (design rule 5.7: close on overflow).
 *
 * Two buffers sit between the hub and the network: the socket's own (`bufferedAmount`, bytes handed to
 * `send()` that the runtime has not yet written to the kernel) and this queue. Deno's server-side
 * WebSocket does count those bytes: with a peer that never reads, `bufferedAmount` stays 0 until the
 * kernel's socket buffers are full (a few MB on loopback) and then grows by every byte sent (checked
 * in `hub_socket_test.ts`). So we keep sending while it is below the high-water mark, hold messages
 * here beyond it, retry on a timer (there is no "drained" event to wait for), and close with 1013
 * once the queue is full. Worst case per client: kernel buffers + high water + the queue's messages.
 */

/** The part of a WebSocket the queue needs; Deno's `WebSocket` satisfies it as is. */
export interface QueueSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
  readonly readyState: number;
}

/** Timers, injected so tests can drive retries by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Options of `createClientQueue`; every field has a default. */
export interface ClientQueueOptions {
  /** Messages held beyond the socket's buffer before the client is closed with 1013. Default 256. */
  maxQueuedMessages?: number;
  /** High-water mark for `socket.bufferedAmount` in bytes; above it, messages wait. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** How often a waiting queue looks at `bufferedAmount` again, in ms. Default 50. */
  retryMs?: number;
  /** Defaults to the global timers. */
  timers?: Timers;
  /** Called once after an overflow has closed the socket, so the owner can forget the client. */
  onOverflow?: () => void;
}

/** The queue in front of one socket. */
export interface ClientQueue {
  /** Sends now or queues; false when the message was dropped (closed socket, or this overflowed it). */
  send(text: string): boolean;
  /** Messages currently waiting in the queue (not counting the socket's own buffer). */
  readonly queued: number;
  /** True after overflow, `dispose()`, or finding the socket closed. */
  readonly closed: boolean;
  /** Drops what is queued and stops the retry timer; the socket is left alone. */
  dispose(): void;
}

const OPEN = 1;

/** The close code and reason sent to a client whose queue overflowed ("try again later"). */
export const OVERFLOW_CLOSE = { code: 1013, reason: "queue overflow" } as const;

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Wraps `socket` in a bounded queue that closes it with 1013 when the client cannot keep up. */
export function createClientQueue(
  socket: QueueSocket,
  options: ClientQueueOptions = {},
): ClientQueue {
  const maxQueued = options.maxQueuedMessages ?? 256;
  const highWater = options.maxBufferedBytes ?? 1024 * 1024;
  const retryMs = options.retryMs ?? 50;
  const timers = options.timers ?? realTimers;
  const queue: string[] = [];
  let timer: unknown = undefined;
  let closed = false;

  function stop() {
    closed = true;
    queue.length = 0;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  }

  function trySend(text: string): boolean {
    try {
      socket.send(text);
      return true;
    } catch {
      // The socket closed between our readyState check and send; its close handler cleans up.
      stop();
      return false;
    }
  }

  // Moves queued messages to the socket while it has room; false if the socket is gone.
  function flush(): boolean {
    if (socket.readyState > OPEN) {
      stop();
      return false;
    }
    while (queue.length > 0 && socket.readyState === OPEN && socket.bufferedAmount < highWater) {
      if (!trySend(queue.shift()!)) return false;
    }
    return true;
  }

  function schedule() {
    if (timer !== undefined || closed || queue.length === 0) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      if (closed) return;
      if (flush()) schedule();
    }, retryMs);
  }

  function overflow() {
    stop();
    try {
      socket.close(OVERFLOW_CLOSE.code, OVERFLOW_CLOSE.reason);
    } catch {
      // Already closing: the client is going away either way.
    }
    options.onOverflow?.();
  }

  return {
    send(text) {
      if (closed || !flush()) return false;
      // Only send directly when nothing is still waiting, or this message would overtake older ones.
      if (queue.length === 0 && socket.readyState === OPEN && socket.bufferedAmount < highWater) {
        return trySend(text);
      }
      if (queue.length >= maxQueued) {
        overflow();
        return false;
      }
      queue.push(text);
      schedule();
      return true;
    },
    get queued() {
      return queue.length;
    },
    get closed() {
      return closed;
    },
    dispose: stop,
  };
}
