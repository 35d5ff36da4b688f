// The page's one realtime WebSocket, shared by every island on it: each island subscribes to its
// topics through `subscribeLive` (simple islands through live/use_live_topic.ts); the connection
// opens with the first subscription, subscribes each topic once however many islands want it,
// reconnects with backoff and resubscribes, and closes when the last island lets go.
import type { Topic } from "../../lib/realtime/topics.ts";

/** Connection state, for the island's "Live" marker. */
export type LiveState = "off" | "connecting" | "live" | "retrying" | "denied";

/** What the island does with events and state changes. */
export interface LiveHandlers<T> {
  event(topic: Topic<T>, data: T): void;
  state(s: LiveState): void;
}

/** The socket as the client uses it; the browser's `WebSocket` is one. */
export interface LiveSocket {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  send(data: string): void;
  close(): void;
}

/** What the client needs from the page (tests give fakes). */
export interface LiveEnv {
  /** Opens a socket to the hub's realtime endpoint. */
  open(): LiveSocket;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** One connection and the subscriptions of the islands that share it. */
export interface RealtimeClient {
  /** Subscribes to `topics`; returns a function that ends this subscription. */
  subscribe<T>(topics: readonly Topic<T>[], on: LiveHandlers<T>): () => void;
}

interface Sub {
  topics: Set<string>;
  on: LiveHandlers<unknown>;
  confirmed: Set<string>;
  state: LiveState;
}

/** Longest wait between reconnects, so a restarting hub is not hammered by every open tab. */
const MAX_BACKOFF_MS = 30_000;

/** Creates a client over `env`; the page's own is made on first use by `subscribeLive`. */
export function createRealtimeClient(env: LiveEnv): RealtimeClient {
  const subs = new Set<Sub>();
  const listeners = new Map<string, Set<Sub>>();
  // Topics the hub confirmed on the current socket.
  const subscribed = new Set<string>();
  let socket: LiveSocket | undefined;
  let open = false;
  let attempt = 0;
  let retry: unknown;
  let idle: unknown;

  const setState = (sub: Sub, s: LiveState) => {
    if (sub.state === s) return;
    sub.state = s;
    sub.on.state(s);
  };
  const send = (message: unknown) => socket?.send(JSON.stringify(message));
  const confirm = (sub: Sub, topic: string) => {
    sub.confirmed.add(topic);
    if (sub.confirmed.size === sub.topics.size) setState(sub, "live");
  };

  function connect() {
    retry = undefined;
    for (const sub of subs) setState(sub, attempt === 0 ? "connecting" : "retrying");
    const ws = socket = env.open();
    ws.onopen = () => {
      open = true;
      for (const topic of listeners.keys()) send({ type: "subscribe", topic });
    };
    ws.onmessage = (e) => receive(e.data);
    ws.onclose = () => {
      socket = undefined;
      open = false;
      subscribed.clear();
      if (subs.size === 0) return;
      for (const sub of subs) {
        sub.confirmed.clear();
        setState(sub, "retrying");
      }
      retry = env.setTimeout(connect, Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt++));
    };
  }

  function receive(raw: unknown) {
    let m: { type?: string; topic?: string; data?: unknown };
    try {
      m = JSON.parse(String(raw));
    } catch {
      return;
    }
    const mine = m.topic === undefined ? undefined : listeners.get(m.topic);
    if (m.type === "subscribed" && m.topic && mine) {
      subscribed.add(m.topic);
      attempt = 0;
      for (const sub of mine) confirm(sub, m.topic);
    } else if (m.type === "event" && m.topic && mine) {
      for (const sub of [...mine]) {
        // One island's failure must not keep the event from the others.
        try {
          sub.on.event(m.topic as Topic<unknown>, m.data);
        } catch (err) {
          console.error(`realtime: an island failed on an event of ${m.topic}:`, err);
        }
      }
    } else if (m.type === "error") {
      // Refused (role changed, signed out elsewhere): retrying would be refused again. An error
      // without a topic answers no island in particular, so it ends them all.
      const refused = m.topic === undefined ? [...subs] : [...mine ?? []];
      for (const sub of refused) {
        end(sub);
        setState(sub, "denied");
      }
    }
  }

  function end(sub: Sub) {
    if (!subs.delete(sub)) return;
    for (const topic of sub.topics) {
      const set = listeners.get(topic)!;
      set.delete(sub);
      if (set.size > 0) continue;
      listeners.delete(topic);
      if (subscribed.delete(topic) && open) send({ type: "unsubscribe", topic });
    }
    // Islands come and go together (a re-render): close only if none comes back this turn.
    if (subs.size === 0 && idle === undefined) {
      idle = env.setTimeout(() => {
        idle = undefined;
        if (subs.size > 0) return;
        env.clearTimeout(retry);
        retry = undefined;
        attempt = 0;
        const ws = socket;
        socket = undefined;
        open = false;
        subscribed.clear();
        if (ws) {
          ws.onclose = ws.onmessage = null;
          ws.close();
        }
      }, 0);
    }
  }

  return {
    subscribe<T>(topics: readonly Topic<T>[], on: LiveHandlers<T>) {
      const sub: Sub = {
        topics: new Set(topics),
        on: on as LiveHandlers<unknown>,
        confirmed: new Set(),
        state: "off",
      };
      subs.add(sub);
      for (const topic of sub.topics) {
        let set = listeners.get(topic);
        if (!set) {
          listeners.set(topic, set = new Set());
          if (open) send({ type: "subscribe", topic });
        }
        set.add(sub);
      }
      if (!socket && retry === undefined) connect();
      else {
        for (const topic of sub.topics) if (subscribed.has(topic)) confirm(sub, topic);
        if (sub.state !== "live") setState(sub, retry !== undefined ? "retrying" : "connecting");
      }
      return () => end(sub);
    },
  };
}

let page: RealtimeClient | undefined;

/** The hub's realtime endpoint on this page's origin, ws: or wss: as the page. */
function openPageSocket(): LiveSocket {
  const url = new URL("/api/v1/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(url);
}

/** Subscribes to `topics` over the page's one shared connection; returns the unsubscribe. */
export function subscribeLive<T>(topics: readonly Topic<T>[], on: LiveHandlers<T>): () => void {
  page ??= createRealtimeClient({
    open: openPageSocket,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as number),
  });
  return page.subscribe(topics, on);
}
