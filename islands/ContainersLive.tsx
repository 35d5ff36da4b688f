// Live container states on the containers page: subscribes to the organization's containers topic
// over the realtime WebSocket, updates the state badge (and with it the buttons) of rows already
// on the page in place, shows the progress of a start, stop or restart at once, and offers a
// refresh for changes the page cannot show by itself (new or removed containers, a host's full
// resync). The table stays server-rendered; without JS this renders nothing and the forms post.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LiveMarker } from "./live/LiveMarker.tsx";
import { type RowView, watchContainerActions } from "./live/container_actions.ts";
import type { ContainersEvent, Topic } from "../lib/realtime/topics.ts";

/** Props of the live containers notice. */
export interface ContainersLiveProps {
  /** `topics.containers(orgId)`. */
  topic: Topic<ContainersEvent>;
  /** Where "refresh" goes: this page with its filters. */
  refreshHref: string;
  /**
   * The page filters on state or name: then a container not listed can join the list by changing
   * state or being renamed. Without such a filter it cannot (rows are ordered by host and name),
   * so the churn of other containers on a busy host offers no refresh.
   */
  filtersOnState?: boolean;
}

/** The same colours as the server's StateBadge. */
function tone(state: string): string {
  if (state === "running") return "ok";
  if (state === "restarting" || state === "paused") return "warn";
  if (state === "exited" || state === "dead") return "error";
  return "neutral";
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

/** The rows of the server-rendered table, drawn in place. */
const rows: RowView = {
  setBadge(id, text, t) {
    const badge = document.querySelector(`[data-container-state="${CSS.escape(id)}"] .badge`);
    if (!badge) return;
    badge.textContent = text;
    badge.className = `badge badge-${t}`;
  },
  setState(id, state) {
    const row = document.querySelector<HTMLElement>(`tr[data-container-row="${CSS.escape(id)}"]`);
    if (!row) return;
    // The engine's status line ("Up 3 hours") described the old state; events do not carry a new one.
    const status = document.querySelector(`[data-container-status="${CSS.escape(id)}"]`);
    if (status && row.dataset.state !== state) status.textContent = JUST_NOW[state] ?? "";
    row.dataset.state = state;
    row.classList.toggle("row-gone", state === "removed");
  },
};

/**
 * Updates a row's badge and state; false when the container is not on this page. A row with an
 * action in flight keeps its "stopping…" until the action's own outcome arrives.
 */
function applyInPlace(e: ContainersEvent, pending: Set<string>): boolean {
  if (e.kind !== "event" || !e.id || !e.state) return false;
  if (!document.querySelector(`[data-container-state="${CSS.escape(e.id)}"] .badge`)) return false;
  if (pending.has(e.id)) return true;
  rows.setBadge(e.id, e.state, tone(e.state));
  rows.setState(e.id, e.state);
  return true;
}

/** Shows "live" and "N changes — refresh"; badges of listed containers change in place. */
export default function ContainersLive(
  { topic, refreshHref, filtersOnState = false }: ContainersLiveProps,
) {
  const changes = useSignal(0);
  const pending = useRef(new Set<string>()).current;
  useEffect(() => watchContainerActions(rows, pending, tone), []);
  const state = useLiveTopic([topic], (_topic, e) => {
    if (!e) return;
    const listed = applyInPlace(e, pending);
    // A new container, a removal, a resync, or (under a state or name filter) an unlisted one that
    // may now match: the rows themselves must be re-read.
    const membership = e.kind !== "event" || e.state === "removed" || e.action === "create" ||
      (!listed && filtersOnState);
    if (membership) changes.value++;
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
