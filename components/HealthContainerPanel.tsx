import type { ComponentChildren } from "preact";
import type { HealthCheckView } from "../lib/health/rows.ts";
import { formatMs, HealthBadge, KIND_LABELS, targetText } from "./HealthBadge.tsx";

/**
 * The container page's health checks: each with its state and last response time, linking to its
 * detail, and "Add HTTP check" for members (click one of the two that start monitoring).
 */
export function HealthContainerPanel(
  { checks, base, addHref, live }: {
    checks: HealthCheckView[];
    /** `/o/<slug>`. */
    base: string;
    /** The new-check form for this container, or null when the caller may not add checks. */
    addHref: string | null;
    /** The live marker island, when built. */
    live?: ComponentChildren;
  },
) {
  return (
    <section class="card health-panel" aria-labelledby="health-title">
      <div class="card-head">
        <h2 id="health-title">Health checks</h2>
        {checks.length > 0 && live}
        {addHref && <a class="btn btn-primary btn-small" href={addHref}>Add HTTP check</a>}
      </div>
      {checks.length
        ? (
          <ul class="health-list">
            {checks.map((c) => (
              <li key={c.id}>
                <HealthBadge id={c.id} state={c.state} enabled={c.enabled} />
                <a href={`${base}/health/${c.id}`}>{c.name}</a>
                <span class="muted small">
                  {KIND_LABELS[c.kind]} <code>{targetText(c)}</code>
                </span>
                <span class="health-list-ms" data-check-ms={c.id}>
                  {formatMs(c.last?.response_ms)}
                </span>
              </li>
            ))}
          </ul>
        )
        : (
          <p class="muted">
            Not monitored yet.{addHref
              ? " Add an HTTP check (or TCP, Docker health, a command) to be told when it stops answering."
              : " Members can add an HTTP, TCP or Docker health check; a command check needs the right to run commands in containers."}
          </p>
        )}
    </section>
  );
}
