// Live notice on the audit page: subscribes to the organization's audit topic over the realtime
// WebSocket and counts rows written since the page was rendered. The page itself stays a plain
// server-rendered table; without JS this renders nothing and the page works the same.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

export interface LiveAuditProps {
  /** `org:<orgId>:audit`. */
  topic: string;
  /** Where "refresh" goes: the newest page with the current filters. */
  refreshHref: string;
}

type State = "off" | "connecting" | "live" | "retrying" | "denied";

const LABELS: Record<State, string> = {
  off: "",
  connecting: "Connecting to live updates…",
  live: "Live",
  retrying: "Live updates lost; reconnecting…",
  denied: "Live updates are not available",
};

/** Shows "N new events — refresh" as audit rows for the organization arrive. */
export default function LiveAudit({ topic, refreshHref }: LiveAuditProps) {
  const state = useSignal<State>("off");
  const fresh = useSignal(0);

  useEffect(() => {
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let attempt = 0;

    const connect = () => {
      state.value = attempt === 0 ? "connecting" : "retrying";
      const url = new URL("/api/v1/ws", location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = socket = new WebSocket(url);
      ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topic }));
      ws.onmessage = (e) => {
        let m: { type?: string; topic?: string };
        try {
          m = JSON.parse(String(e.data));
        } catch {
          return;
        }
        if (m.type === "subscribed" && m.topic === topic) {
          state.value = "live";
          attempt = 0;
        } else if (m.type === "event" && m.topic === topic) {
          fresh.value++;
        } else if (m.type === "error") {
          // Refused (role changed, signed out elsewhere): retrying would be refused again.
          stopped = true;
          state.value = "denied";
          ws.close();
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        state.value = "retrying";
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
  }, [topic]);

  const n = fresh.value;
  return (
    <div class="live" data-state={state.value} hidden={state.value === "off"}>
      <span class="live-dot" aria-hidden="true" />
      <span class="live-label">{LABELS[state.value]}</span>
      <span aria-live="polite">
        {n > 0 && (
          <a class="live-new" href={refreshHref}>
            {n} new {n === 1 ? "event" : "events"} — refresh
          </a>
        )}
      </span>
    </div>
  );
}
