// The bell in the layout: a plain link with the count of firing alerts nobody has acknowledged,
// rendered on the server. Hydrated, it subscribes to the organization's alerts topic and re-reads
// the count whenever an alert fires, resolves or is acknowledged, so the badge moves without a
// reload. Without JS the link still works.
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { plural } from "../components/plural.ts";
import type { AlertsEvent, Topic } from "../lib/realtime/topics.ts";

export interface NotificationBellProps {
  /** Firing, unacknowledged alerts when the page was rendered. */
  count: number;
  /** The notifications page. */
  href: string;
  /** `topics.alerts(orgId)`. */
  topic: Topic<AlertsEvent>;
  /** `GET …/notifications/open-count` of the organization. */
  countUrl: string;
  /** The page is the notifications page itself. */
  current?: boolean;
}

/** "99+" beyond two digits, so the badge keeps its size. */
export function badgeText(n: number): string {
  return n > 99 ? "99+" : String(n);
}

/** The bell's accessible name: what its number counts. */
export function bellLabel(n: number): string {
  return n === 0
    ? "Notifications: no firing alerts waiting"
    : `Notifications: ${plural(n, "firing alert")} not acknowledged`;
}

/** The bell link with its badge of open alerts. */
export default function NotificationBell(
  { count, href, topic, countUrl, current }: NotificationBellProps,
) {
  const unread = useSignal(count);
  const pending = useRef<Promise<void> | null>(null);
  const refresh = () => {
    // Several events in a burst need one read, not one each.
    pending.current ??= fetch(countUrl, { headers: { accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((b) => {
        if (b && typeof b.count === "number") unread.value = b.count;
      })
      .catch(() => {})
      .finally(() => pending.current = null);
  };
  const live = useLiveTopic([topic], refresh);
  const n = unread.value;
  const label = bellLabel(n);
  return (
    <a
      class="btn btn-ghost btn-icon bell"
      href={href}
      aria-label={label}
      title={label}
      aria-current={current ? "page" : undefined}
      data-unread={n}
      data-live={live.value}
    >
      <svg class="bell-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
      </svg>
      {n > 0 && <span class="bell-count" aria-hidden="true">{badgeText(n)}</span>}
    </a>
  );
}
