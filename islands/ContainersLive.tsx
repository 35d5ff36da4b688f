// Live container states on the containers page: subscribes to the organization's containers topic
// over the realtime WebSocket, updates the state badge of rows already on the page in place, and
// offers a refresh for changes the page cannot show by itself (new or removed containers, a host's
// full resync). The table stays server-rendered; without JS this renders nothing.
import { useSignal } from "@preact/signals";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LiveMarker } from "./live/LiveMarker.tsx";

/** Props of the live containers notice. */
export interface ContainersLiveProps {
  /** `org:<orgId>:containers`. */
  topic: string;
  /** Where "refresh" goes: this page with its filters. */
  refreshHref: string;
}

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

/**
 * Docker's status words for a state that changed just now (the exit code and the exact text come
 * with the next page load), so the line under a badge never contradicts it.
 */
const JUST_NOW: Record<string, string> = {
  running: "Up Less than a second",
  exited: "Exited Less than a second ago",
  restarting: "Restarting",
  paused: "Paused",
  created: "Created",
  dead: "Dead",
  removed: "Removed",
};

/** Updates a row's badge and status line; false when the container is not on this page. */
function applyInPlace(e: ContainerEvent): boolean {
  if (e.kind !== "event" || !e.id || !e.state) return false;
  const cell = document.querySelector(`[data-container-state="${CSS.escape(e.id)}"]`);
  const badge = cell?.querySelector(".badge");
  if (!badge) return false;
  if (badge.textContent !== e.state) {
    const status = document.querySelector(`[data-container-status="${CSS.escape(e.id)}"]`);
    if (status) status.textContent = JUST_NOW[e.state] ?? "";
  }
  badge.textContent = e.state;
  badge.className = `badge badge-${tone(e.state)}`;
  cell!.closest("tr")?.classList.toggle("row-gone", e.state === "removed");
  return true;
}

/** Shows "live" and "N changes — refresh"; badges of listed containers change in place. */
export default function ContainersLive({ topic, refreshHref }: ContainersLiveProps) {
  const changes = useSignal(0);
  const state = useLiveTopic([topic], (_topic, data) => {
    const e = data as ContainerEvent | undefined;
    if (!e) return;
    const inPlace = applyInPlace(e);
    // A new container, a removal, or a resync: the rows themselves must be re-read.
    if (!inPlace || e.state === "removed" || e.action === "create") changes.value++;
  });

  return (
    <LiveMarker state={state.value}>
      {changes.value > 0 && (
        <a class="live-new" href={refreshHref}>
          Containers changed — refresh
        </a>
      )}
    </LiveMarker>
  );
}
