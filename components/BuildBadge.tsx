/**
 * A build's state as a badge, shared by the build pages and the BuildLive island (which rewrites
 * it when the state changes), so it reads the same before and after hydration.
 */
import type { BuildState } from "../lib/builds/store.ts";
import { Badge } from "./Badge.tsx";

/** Badge colours of build states. */
export const BUILD_TONE: Record<BuildState, "ok" | "error" | "warn" | "accent" | "neutral"> = {
  queued: "neutral",
  running: "accent",
  succeeded: "ok",
  failed: "error",
  cancelled: "warn",
};

/** Whether a build has not ended yet. */
export const buildActive = (state: string) => state === "queued" || state === "running";

/** A build's state; `[data-build-state]` carries it for tests and styles. */
export function BuildBadge({ state }: { state: BuildState }) {
  return (
    <span class="build-state" data-build-state={state}>
      <Badge tone={BUILD_TONE[state] ?? "neutral"}>{state}</Badge>
    </span>
  );
}
