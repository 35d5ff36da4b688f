import type { ComponentChildren } from "preact";
import type { LiveState } from "../client/realtime.ts";

/** What the marker says in each state; islands may word "live" their own way. */
export const LIVE_LABELS: Record<LiveState, string> = {
  off: "",
  connecting: "Connecting to live updates…",
  live: "Live",
  retrying: "Live updates lost; reconnecting…",
  denied: "Live updates are not available",
};

/** The charts' wording: a lost connection reads as "connecting" again while it retries. */
export const CHART_LIVE_LABELS: Record<LiveState, string> = {
  ...LIVE_LABELS,
  retrying: LIVE_LABELS.connecting,
};

/**
 * The "● Live" marker of a live island, hidden until the socket is tried; `children` go in a
 * polite live region (e.g. "3 new events — refresh").
 */
export function LiveMarker(
  { state, labels = LIVE_LABELS, children }: {
    state: LiveState;
    labels?: Record<LiveState, string>;
    children?: ComponentChildren;
  },
) {
  return (
    <div class="live" data-state={state} hidden={state === "off"}>
      <span class="live-dot" aria-hidden="true" />
      <span class="live-label">{labels[state]}</span>
      {children !== undefined && <span aria-live="polite">{children}</span>}
    </div>
  );
}
