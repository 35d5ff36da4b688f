// The time left of a grace period (components/GraceBanner.tsx), ticking down once a minute. The
// server renders the same text; the island counts from the server's "now" (not the browser's
// clock, which may be off), adding the time elapsed since the page loaded.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { timeLeft } from "../components/time_left.ts";

export interface GraceCountdownProps {
  /** When the grace period ends, ms since the epoch. */
  ends_at: number;
  /** The server's clock when the page was rendered. */
  now: number;
}

export default function GraceCountdown({ ends_at, now }: GraceCountdownProps) {
  const at = useSignal(now);
  useEffect(() => {
    const loaded = performance.now();
    const tick = () => {
      at.value = now + (performance.now() - loaded);
    };
    const id = setInterval(tick, 30_000);
    return () => clearInterval(id);
  }, [now]);
  return <span data-countdown={ends_at}>{timeLeft(ends_at, at.value)}</span>;
}
