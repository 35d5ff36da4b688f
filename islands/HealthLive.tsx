// Live health states on the health page and the container page: subscribes to the organization's
// health topic (lib/health publishes each stored batch and each state change) and rewrites the
// state badges and response times the server rendered, in place. Checks added or removed elsewhere
// are offered as a refresh. Without JS the page shows the states as of its rendering.
import { useSignal } from "@preact/signals";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import { formatMs } from "../components/HealthBadge.tsx";
import type { HealthEvent, Topic } from "../lib/realtime/topics.ts";

/** Props of the HealthLive island (JSON-serialisable). */
export interface HealthLiveProps {
  /** `topics.health(orgId)`. */
  topic: Topic<HealthEvent>;
}

const TONES: Record<string, string> = { healthy: "ok", unhealthy: "error", unknown: "neutral" };

/** Rewrites every `[data-check-state=<id>]` badge of the page (`removed`: the check is gone). */
export function showCheckState(id: string, state: string): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-check-state]")) {
    if (el.dataset.checkState !== id) continue;
    // Disabled checks and those whose container is gone do not run: their badge says why.
    if (el.dataset.state === "disabled" || el.dataset.state === "gone") continue;
    const badge = el.querySelector(".badge");
    if (!badge) continue;
    el.dataset.state = state;
    badge.className = `badge badge-${TONES[state] ?? "neutral"}`;
    badge.textContent = state;
  }
}

/** Rewrites every `[data-check-ms=<id>]` cell with the newest response time. */
function showResponse(id: string, ms: number | null, ok: boolean): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-check-ms]")) {
    if (el.dataset.checkMs !== id) continue;
    el.textContent = formatMs(ms);
    el.classList.toggle("error-text", !ok);
  }
}

const LABELS = {
  ...LIVE_LABELS,
  live: "Live states",
  retrying: "Live states lost; reconnecting…",
  denied: "Live states are not available",
};

/** A "Live" marker that keeps check badges current and offers a refresh when the set changed. */
export default function HealthLive({ topic }: HealthLiveProps) {
  const stale = useSignal(false);
  const state = useLiveTopic([topic], (_topic, e) => {
    if (!e) return;
    if (e.kind === "state" && e.check_id && e.state) {
      showCheckState(e.check_id, e.state);
      // Counts and filters were computed for the old states.
      stale.value = true;
    } else if (e.kind === "results" && Array.isArray(e.checks)) {
      for (const c of e.checks) {
        showCheckState(c.id, c.state);
        showResponse(c.id, c.response_ms, c.ok);
      }
    } else if (e.kind === "results" || e.kind === "created" || e.kind === "checks") {
      stale.value = true;
    }
  });
  return (
    <LiveMarker state={state.value} labels={LABELS}>
      {stale.value
        ? (
          <a href="" onClick={() => location.reload()}>
            Checks changed — refresh
          </a>
        )
        : ""}
    </LiveMarker>
  );
}
