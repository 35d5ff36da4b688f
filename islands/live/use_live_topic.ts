// The hook every single-purpose live island uses: one realtime subscription for the island's
// lifetime, its connection state as a signal for the marker.
import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type LiveState, subscribeLive } from "../metrics/realtime.ts";

/**
 * Subscribes to `topics` while the island is mounted and calls `onEvent` for each event; the
 * latest `onEvent` is used, so callers may pass a fresh closure every render.
 */
export function useLiveTopic(
  topics: string[],
  onEvent: (topic: string, data: unknown) => void,
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
