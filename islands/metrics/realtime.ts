// One realtime WebSocket for a live island: subscribes to its topics on one connection, hands
// events over and reconnects with backoff. Simple islands use it through live/use_live_topic.ts.

/** Connection state, for the island's "Live" marker. */
export type LiveState = "off" | "connecting" | "live" | "retrying" | "denied";

/** What the island does with events and state changes. */
export interface LiveHandlers {
  event(topic: string, data: unknown): void;
  state(s: LiveState): void;
}

/** Opens the socket and subscribes to `topics`; returns a function that closes it for good. */
export function subscribeLive(topics: string[], on: LiveHandlers): () => void {
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let attempt = 0;
  const wanted = new Set(topics);

  const connect = () => {
    on.state(attempt === 0 ? "connecting" : "retrying");
    const url = new URL("/api/v1/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = socket = new WebSocket(url);
    ws.onopen = () => {
      for (const topic of topics) ws.send(JSON.stringify({ type: "subscribe", topic }));
    };
    ws.onmessage = (e) => {
      let m: { type?: string; topic?: string; data?: unknown };
      try {
        m = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (m.type === "subscribed" && m.topic === topics[0]) {
        on.state("live");
        attempt = 0;
      } else if (m.type === "event" && m.topic && wanted.has(m.topic)) {
        on.event(m.topic, m.data);
      } else if (m.type === "error") {
        // Refused (role changed, signed out elsewhere): retrying would be refused again.
        stopped = true;
        on.state("denied");
        ws.close();
      }
    };
    ws.onclose = () => {
      if (stopped) return;
      on.state("retrying");
      // Back off up to 30 s so a restarting hub is not hammered by every open tab.
      timer = setTimeout(connect, Math.min(30_000, 1000 * 2 ** attempt++));
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };
}
