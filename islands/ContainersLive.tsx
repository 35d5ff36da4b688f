// Live container states on the containers page: subscribes to the organization's containers topic
// over the realtime WebSocket, updates the state badge of rows already on the page in place, and
// offers a refresh for changes the page cannot show by itself (new or removed containers, a host's
// full resync). The table stays server-rendered; without JS this renders nothing.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/** Props of the live containers notice. */
export interface ContainersLiveProps {
  /** `org:<orgId>:containers`. */
  topic: string;
  /** Where "refresh" goes: this page with its filters. */
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

/** The same colours as the server's StateBadge. */
function tone(state: string): string {
  if (state === "running") return "ok";
  if (state === "restarting" || state === "paused") return "warn";
  if (state === "exited" || state === "dead") return "error";
  return "neutral";
}

interface ContainerEvent {
  host_id?: string;
  kind?: "event" | "snapshot";
  id?: string;
  action?: string;
  state?: string;
}

/** Updates a row's badge; false when the container is not on this page. */
function applyInPlace(e: ContainerEvent): boolean {
  if (e.kind !== "event" || !e.id || !e.state) return false;
  const cell = document.querySelector(`[data-container-state="${CSS.escape(e.id)}"]`);
  const badge = cell?.querySelector(".badge");
  if (!badge) return false;
  badge.textContent = e.state;
  badge.className = `badge badge-${tone(e.state)}`;
  cell!.closest("tr")?.classList.toggle("row-gone", e.state === "removed");
  return true;
}

/** Shows "live" and "N changes — refresh"; badges of listed containers change in place. */
export default function ContainersLive({ topic, refreshHref }: ContainersLiveProps) {
  const state = useSignal<State>("off");
  const changes = useSignal(0);

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
      ws.onmessage = (msg) => {
        let m: { type?: string; topic?: string; data?: ContainerEvent };
        try {
          m = JSON.parse(String(msg.data));
        } catch {
          return;
        }
        if (m.type === "subscribed" && m.topic === topic) {
          state.value = "live";
          attempt = 0;
        } else if (m.type === "event" && m.topic === topic && m.data) {
          const inPlace = applyInPlace(m.data);
          // A new container, a removal, or a resync: the rows themselves must be re-read.
          if (!inPlace || m.data.state === "removed" || m.data.action === "create") {
            changes.value++;
          }
        } else if (m.type === "error") {
          stopped = true;
          state.value = "denied";
          ws.close();
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        state.value = "retrying";
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

  const n = changes.value;
  return (
    <div class="live" data-state={state.value} hidden={state.value === "off"}>
      <span class="live-dot" aria-hidden="true" />
      <span class="live-label">{LABELS[state.value]}</span>
      <span aria-live="polite">
        {n > 0 && (
          <a class="live-new" href={refreshHref}>
            Containers changed — refresh
          </a>
        )}
      </span>
    </div>
  );
}
