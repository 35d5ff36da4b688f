// The hook every single-purpose live island uses: a subscription through the page's one realtime
// connection (client/realtime.ts) for the island's lifetime, its state as a signal for the marker.
import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { Topic } from "../../lib/realtime/topics.ts";
import { type LiveState, subscribeLive } from "../client/realtime.ts";

/**
 * Subscribes to `topics` while the island is mounted and calls `onEvent` for each event; the
 * latest `onEvent` is used, so callers may pass a fresh closure every render.
 */
export function useLiveTopic<T>(
  topics: Topic<T>[],
  onEvent: (topic: Topic<T>, data: T) => void,
): Signal<LiveState> {
  const state = useSignal<LiveState>("off");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = topics.join("\n");
  useEffect(
    () =>
      subscribeLive(topics, {
        event: (topic, data) => handler.current(topic, data),
        state: (s) => state.value = s,
      }),
    [key],
  );
  return state;
}
