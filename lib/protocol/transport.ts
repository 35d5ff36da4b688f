/**
 * The hub↔agent connection as both ends see it: text frames in order, a close, and how much is
 * still waiting to go out (so producers can shed load instead of buffering without bound).
 */
export interface Transport {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onMessage(handler: (text: string) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
  readonly bufferedAmount: number;
  readonly open: boolean;
}

/** Wraps a WebSocket (browser-style API, as Deno has on both ends) as a Transport. */
export function webSocketTransport(ws: WebSocket): Transport {
  const messageHandlers: ((t: string) => void)[] = [];
  const closeHandlers: ((c: number, r: string) => void)[] = [];
  let closed = false;
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string") { for (const h of messageHandlers) h(e.data); }
    else ws.close(1003, "text frames only");
  });
  ws.addEventListener("close", (e) => {
    if (closed) return;
    closed = true;
    for (const h of closeHandlers) h(e.code, e.reason);
  });
  ws.addEventListener("error", () => {});
  return {
    send: (t) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(t);
    },
    close: (code = 1000, reason = "") => {
      try {
        ws.close(code, reason);
      } catch {
        // Already closing.
      }
    },
    onMessage: (h) => void messageHandlers.push(h),
    onClose: (h) => void closeHandlers.push(h),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get open() {
      return !closed && ws.readyState === WebSocket.OPEN;
    },
  };
}

/**
 * Two connected in-process ends: how the hub talks to its embedded agent through exactly the
 * protocol a remote agent speaks. Delivery is asynchronous (a microtask) like a socket's.
 */
export function memoryTransportPair(): [Transport, Transport] {
  type End = {
    messages: ((t: string) => void)[];
    closes: ((c: number, r: string) => void)[];
    pending: number;
  };
  const ends: [End, End] = [{ messages: [], closes: [], pending: 0 }, {
    messages: [],
    closes: [],
    pending: 0,
  }];
  let closed = false;
  const make = (self: End, peer: End): Transport => ({
    send(text) {
      if (closed) return;
      self.pending += text.length;
      queueMicrotask(() => {
        self.pending -= text.length;
        if (!closed) { for (const h of peer.messages) h(text); }
      });
    },
    close(code = 1000, reason = "") {
      if (closed) return;
      closed = true;
      queueMicrotask(() => {
        for (const e of ends) for (const h of e.closes) h(code, reason);
      });
    },
    onMessage: (h) => void self.messages.push(h),
    onClose: (h) => void self.closes.push(h),
    get bufferedAmount() {
      return self.pending;
    },
    get open() {
      return !closed;
    },
  });
  return [make(ends[0], ends[1]), make(ends[1], ends[0])];
}
