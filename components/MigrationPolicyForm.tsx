import type { MigrationPolicy } from "../lib/apps/tables.ts";

/** Each policy in words: what happens to the app's tasks when their node fails. */
export const POLICY_TEXT: Record<MigrationPolicy, { label: string; hint: string }> = {
  automatic: {
    label: "Automatic",
    hint: "Swarm places the tasks and starts them on another node when theirs fails.",
  },
  manual: {
    label: "Manual",
    hint: "Each service stays on its node. When the node fails its tasks wait there; you move " +
      'them with "Move to …" on the app page (a new deployment, new tasks first).',
  },
  none: {
    label: "None",
    hint: "Each service stays on its node and is never moved, by Swarm or from the app page: " +
      "when the node fails the service is down until the node returns. For services whose data " +
      "lives on that node.",
  },
};

/**
 * The app's migration policy as radio buttons with what each means; posting it to `action`
 * saves it, and deploys at once when services become pinned or unpinned.
 */
export function MigrationPolicyForm(
  { action, value, error }: { action: string; value: MigrationPolicy; error?: string },
) {
  return (
    <section class="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Migration policy</h2>
      <form method="post" action={action}>
        <fieldset aria-describedby={error ? "policy-error" : "policy-note"}>
          <legend class="visually-hidden">When a node fails</legend>
          {(Object.keys(POLICY_TEXT) as MigrationPolicy[]).map((p) => (
            <div class="field field-check" key={p}>
              <input
                id={`policy-${p}`}
                type="radio"
                name="migration_policy"
                value={p}
                checked={p === value}
              />
              <label for={`policy-${p}`}>
                <strong>{POLICY_TEXT[p].label}</strong> — {POLICY_TEXT[p].hint}
              </label>
            </div>
          ))}
        </fieldset>
        {error && <p class="field-error" id="policy-error" role="alert">{error}</p>}
        <p class="hint" id="policy-note">
          Switching between automatic and manual or none changes where Swarm may run the services,
          so it deploys the running configuration again at once.
        </p>
        <div class="actions">
          <button class="btn" type="submit">Save policy</button>
        </div>
      </form>
    </section>
  );
}
