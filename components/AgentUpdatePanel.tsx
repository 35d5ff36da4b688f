import type { AgentUpdateOutcomesTable } from "../lib/db/schema.ts";
import { Alert } from "./Alert.tsx";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

const TONE = {
  succeeded: "ok",
  rolled_back: "error",
  rejected: "error",
  failed: "warn",
} as const;
const LABEL = {
  succeeded: "updated",
  rolled_back: "rolled back",
  rejected: "rejected",
  failed: "failed",
} as const;

/**
 * The host page's agent update panel: the agent's latest update outcomes (a failed update on top,
 * as an alert) and, for org admins, "Update agent", which asks the connected agent to check now.
 */
export function AgentUpdatePanel(
  { action, outcomes, canUpdate, online, local, requested }: {
    /** POST target of "Update agent". */
    action: string;
    outcomes: AgentUpdateOutcomesTable[];
    canUpdate: boolean;
    online: boolean;
    local: boolean;
    /** The agent was just asked to check. */
    requested: boolean;
  },
) {
  const last = outcomes[0];
  return (
    <section class="card" id="agent-update" aria-labelledby="agent-update-title">
      <h2 id="agent-update-title">Agent updates</h2>
      {requested && (
        <Alert kind="ok">
          The agent is checking for an update. When the rollout reaches this host with a newer
          signed release, it installs it and restarts within a minute.
        </Alert>
      )}
      {last && last.outcome !== "succeeded" && (
        <Alert kind={last.outcome === "failed" ? "warn" : "error"}>
          The update to {last.to_version} {LABEL[last.outcome]}: {last.message}
        </Alert>
      )}
      {local
        ? <p class="muted">The hub's own agent updates with the hub.</p>
        : outcomes.length === 0
        ? (
          <p class="muted">
            No updates reported yet. Agents installed as a single binary check every 24 hours for
            the release rolled out to them.
          </p>
        )
        : (
          <dl class="props">
            {outcomes.map((o) => (
              <>
                <dt key={`${o.id}-t`}>
                  <Badge tone={TONE[o.outcome]}>{LABEL[o.outcome]}</Badge>
                </dt>
                <dd key={`${o.id}-d`}>
                  <code>{o.from_version}</code> → <code>{o.to_version}</code> · <Time ms={o.at} />
                  <br />
                  <span class="muted">{o.message}</span>
                </dd>
              </>
            ))}
          </dl>
        )}
      {canUpdate && !local && (
        <form method="post" action={action} class="actions">
          <button class="btn" type="submit" disabled={!online}>Update agent</button>
          {!online && <span class="muted">The agent is offline.</span>}
        </form>
      )}
    </section>
  );
}
