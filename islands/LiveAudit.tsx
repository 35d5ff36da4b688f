// Live notice on the audit page: subscribes to the organization's audit topic over the realtime
// WebSocket and counts rows written since the page was rendered. The page itself stays a plain
// server-rendered table; without JS this renders nothing and the page works the same.
import { useSignal } from "@preact/signals";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LiveMarker } from "./live/LiveMarker.tsx";
import type { AuditEvent, Topic } from "../lib/realtime/topics.ts";

export interface LiveAuditProps {
  /** `topics.audit(orgId)`. */
  topic: Topic<AuditEvent>;
  /** Where "refresh" goes: the newest page with the current filters. */
  refreshHref: string;
}

/** Shows "N new events — refresh" as audit rows for the organization arrive. */
export default function LiveAudit({ topic, refreshHref }: LiveAuditProps) {
  const fresh = useSignal(0);
  const state = useLiveTopic([topic], () => fresh.value++);
  const n = fresh.value;
  return (
    <LiveMarker state={state.value}>
      {n > 0 && (
        <a class="live-new" href={refreshHref}>
          {n} new {n === 1 ? "event" : "events"} — refresh
        </a>
      )}
    </LiveMarker>
  );
}
