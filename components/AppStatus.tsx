/**
 * The states of apps and deployments as badges, marked so the app page's live island can rewrite
 * them in place when a deployment moves on.
 */
import type { App, Deployment } from "../lib/apps/store.ts";
import type { DeploymentStatus } from "../lib/apps/tables.ts";
import { Badge } from "./Badge.tsx";

/** Badge colours of deployment states. */
export const DEPLOYMENT_TONE: Record<
  DeploymentStatus,
  "ok" | "error" | "warn" | "accent" | "neutral"
> = {
  pending: "accent",
  deploying: "accent",
  running: "ok",
  failed: "error",
  rolled_back: "warn",
  superseded: "neutral",
};

/** A deployment state in words ("rolled back", not "rolled_back"). */
export const statusWords = (s: string) => s.replace(/_/g, " ");

/** Whether a deployment is still under way. */
export const inProgress = (d: Pick<Deployment, "status"> | undefined) =>
  d?.status === "pending" || d?.status === "deploying";

/**
 * A deployment's state as a badge; `[data-deployment-status=<id>]` is what the live island
 * rewrites when the deployment moves on.
 */
export function DeploymentBadge({ d }: { d: Pick<Deployment, "id" | "status"> }) {
  return (
    <span class="deployment-status" data-deployment-status={d.id} data-status={d.status}>
      <Badge tone={DEPLOYMENT_TONE[d.status]}>{statusWords(d.status)}</Badge>
    </span>
  );
}

/**
 * An app's state: "stopped" when it was asked to stop, then how its latest deployment went ("#3
 * running"). `[data-app-state]` holds the deployment badge the app page rewrites live.
 */
export function AppState(
  { app, latest }: { app: Pick<App, "id" | "desired_state">; latest?: Deployment },
) {
  return (
    <span class="app-state" data-app-state={app.id} data-desired={app.desired_state}>
      {app.desired_state === "stopped" && <Badge tone="neutral">stopped</Badge>}
      {latest
        ? (
          <span class="nowrap">
            <span class="muted small">#{latest.number}</span> <DeploymentBadge d={latest} />
          </span>
        )
        : <span class="muted small">not deployed</span>}
    </span>
  );
}
