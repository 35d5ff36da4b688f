// Live host status on the hosts pages: subscribes to the organization's hosts topic (the agent
// registry publishes {host_id, online} when an agent connects or goes) and flips the status
// badges the server rendered. Without JS the page shows the status as of its rendering.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/** Props of the LiveHosts island (JSON-serialisable). */
export interface LiveHostsProps {
  /** `org:<orgId>:hosts`. */
  topic: string;
}

type State = "off" | "live" | "retrying" | "denied";

/** Rewrites every `[data-host-status=<id>]` badge of the page for a host that came or went. */
function showStatus(hostId: string, online: boolean) {
  for (const el of document.querySelectorAll<HTMLElement>("[data-host-status]")) {
    if (el.dataset.hostStatus !== hostId) continue;
    const badge = el.querySelector(".badge");
    if (!badge) continue;
    badge.className = `badge ${online ? "badge-ok" : "badge-error"}`;
    badge.textContent = online ? "online" : "offline";
  }
}

/** A "Live" marker that keeps host status badges current. */
export default function LiveHosts({ topic }: LiveHostsProps) {
  const state = useSignal<State>("off");

  useEffect(() => {
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let attempt = 0;
    const connect = () => {
      const url = new URL("/api/v1/ws", location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = socket = new WebSocket(url);
      ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topic }));
      ws.onmessage = (e) => {
        let m: { type?: string; topic?: string; data?: { host_id?: unknown; online?: unknown } };
        try {
          m = JSON.parse(String(e.data));
        } catch {
          return;
        }
        if (m.type === "subscribed" && m.topic === topic) {
          state.value = "live";
          attempt = 0;
        } else if (m.type === "event" && m.topic === topic) {
          const d = m.data;
          if (typeof d?.host_id === "string" && typeof d.online === "boolean") {
            showStatus(d.host_id, d.online);
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

  return (
    <div class="live" data-state={state.value} hidden={state.value === "off"}>
      <span class="live-dot" aria-hidden="true" />
      <span class="live-label">
        {state.value === "live"
          ? "Live status"
          : state.value === "retrying"
          ? "Live status lost; reconnecting…"
          : "Live status is not available"}
      </span>
    </div>
  );
}
