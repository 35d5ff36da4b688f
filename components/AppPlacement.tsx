import type { App } from "../lib/apps/store.ts";
import type { NodeView } from "../lib/apps/cluster.ts";
import { POLICY_TEXT } from "./MigrationPolicyForm.tsx";

/**
 * Where an app's services may run: its migration policy in words, the node each service is pinned
 * to (manual and none), and for manual the "Move to …" form (a GET to the confirmation page, so
 * it works without JavaScript).
 */
export function AppPlacement(
  { app, pins, nodes, self, operate }: {
    app: App;
    /** The current deployment's pins: service → node id. */
    pins: Record<string, string>;
    nodes: NodeView[];
    self: string;
    operate: boolean;
  },
) {
  const policy = app.migration_policy;
  const services = app.spec.services.map((s) => s.name);
  const hostname = (id: string | undefined) =>
    id ? nodes.find((n) => n.node_id === id)?.hostname ?? id.slice(0, 12) : undefined;
  return (
    <section class="card app-placement" aria-labelledby="placement-title">
      <div class="card-head">
        <h2 id="placement-title">Placement</h2>
        {operate && (
          <a class="btn btn-small btn-ghost" href={`${self}/edit#policy-title`}>
            Change
          </a>
        )}
      </div>
      <p>
        <strong>{POLICY_TEXT[policy].label}</strong> — {POLICY_TEXT[policy].hint}
      </p>
      {policy !== "automatic" && (
        <dl class="props" data-pins>
          {services.map((s) => (
            <>
              <dt key={s}>{s}</dt>
              <dd data-pin={s}>{hostname(pins[s]) ?? "pinned at its next deployment"}</dd>
            </>
          ))}
        </dl>
      )}
      {policy === "manual" && operate && nodes.length > 0 && (
        <form method="get" action={`${self}/move`} class="inline-form move-form">
          {services.length > 1
            ? (
              <div class="field">
                <label for="move-service">Service</label>
                <select id="move-service" name="service">
                  {services.map((s) => <option key={s} value={s}>{s}</option>)}
                </select>
              </div>
            )
            : <input type="hidden" name="service" value={services[0]} />}
          <div class="field">
            <label for="move-node">Move {services.length > 1 ? "it" : services[0]} to</label>
            <select id="move-node" name="node">
              {nodes.map((n) => (
                <option key={n.node_id} value={n.node_id}>
                  {n.hostname}
                  {n.state !== "ready" || n.availability !== "active"
                    ? ` (${n.state}, ${n.availability})`
                    : ""}
                </option>
              ))}
            </select>
          </div>
          <button class="btn" type="submit">Move…</button>
        </form>
      )}
    </section>
  );
}
