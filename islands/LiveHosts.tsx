// Live host status on the hosts pages: subscribes to the organization's hosts topic (the agent
// registry publishes {host_id, online} when an agent connects or goes) and flips the status
// badges the server rendered. Without JS the page shows the status as of its rendering.
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import type { HostsEvent, Topic } from "../lib/realtime/topics.ts";

/** Props of the LiveHosts island (JSON-serialisable). */
export interface LiveHostsProps {
  /** `topics.hosts(orgId)`. */
  topic: Topic<HostsEvent>;
}

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

const LABELS = {
  ...LIVE_LABELS,
  live: "Live status",
  retrying: "Live status lost; reconnecting…",
  denied: "Live status is not available",
};

/** A "Live" marker that keeps host status badges current. */
export default function LiveHosts({ topic }: LiveHostsProps) {
  const state = useLiveTopic([topic], (_topic, data) => {
    // The socket carries JSON from the hub; check its shape anyway.
    if (typeof data?.host_id === "string" && typeof data.online === "boolean") {
      showStatus(data.host_id, data.online);
    }
  });
  return <LiveMarker state={state.value} labels={LABELS} />;
}
