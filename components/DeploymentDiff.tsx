import { Fragment } from "preact";
import type { FieldChange, SpecDiff } from "../lib/apps/diff.ts";
import type { AppSpec } from "../lib/apps/spec.ts";

const FIELD_WORDS: Record<FieldChange["field"], string> = {
  image: "Image",
  command: "Command",
  env: "Environment",
  ports: "Ports",
  limits: "Limits",
  reservations: "Reservations",
  replicas: "Replicas",
  secrets: "Secrets",
  other: "Other settings",
};

/** One changed field: from → to, or the environment keys added, removed and changed. */
function Change({ c }: { c: FieldChange }) {
  if (c.field === "env") {
    const parts: [string, string[] | undefined][] = [
      ["added", c.added],
      ["removed", c.removed],
      ["changed", c.changed],
    ];
    return (
      <>
        {parts.filter(([, keys]) => keys?.length).map(([what, keys]) => (
          <span key={what} class={`diff-${what}`}>
            {what} <code>{keys!.join(", ")}</code>
            {" "}
          </span>
        ))}
        <span class="muted small">(values are not shown)</span>
      </>
    );
  }
  if (c.field === "other") {
    return <>health check, restart, placement, update policy or labels changed</>;
  }
  return (
    <>
      <del class="diff-from">{c.from}</del> <span aria-hidden="true">→</span>{" "}
      <ins class="diff-to">{c.to}</ins>
    </>
  );
}

/**
 * What a deployment changed against the one before it: services added or removed, and per
 * service its image, environment keys, ports, limits, reservations and replicas.
 */
export function DeploymentDiff(
  { diff, first, spec }: { diff: SpecDiff; first: boolean; spec: AppSpec },
) {
  if (first) {
    return (
      <p>
        Nothing before it: it created {spec.services.map((s, i) => (
          <span key={s.name}>
            {i > 0 && ", "}
            <strong>{s.name}</strong> (<code>{s.image}</code>)
          </span>
        ))}.
      </p>
    );
  }
  const secrets = diff.secrets ?? [];
  const versions = secrets.length > 0 && (
    <ul class="diff-secrets">
      {secrets.map((s) => (
        <li key={s.secret} data-diff-secret={s.secret}>
          secret <code>{s.secret}</code>: {s.from === null
            ? <ins class="diff-to">version {s.to} (new)</ins>
            : s.to === null
            ? <del class="diff-from">version {s.from} (no longer used)</del>
            : (
              <>
                <del class="diff-from">version {s.from}</del> <span aria-hidden="true">→</span>{" "}
                <ins class="diff-to">version {s.to}</ins>
              </>
            )}
        </li>
      ))}
    </ul>
  );
  if (!diff.added.length && !diff.removed.length && !diff.changed.length) {
    if (versions) return versions;
    return (
      <p class="muted">
        No change in configuration (a restart, a start or stop, or a redeploy of the same snapshot).
      </p>
    );
  }
  return (
    <div class="deployment-diff">
      {versions}
      {diff.added.length > 0 && (
        <p>
          Services added: <ins class="diff-to">{diff.added.join(", ")}</ins>
        </p>
      )}
      {diff.removed.length > 0 && (
        <p>
          Services removed: <del class="diff-from">{diff.removed.join(", ")}</del>
        </p>
      )}
      {diff.changed.map((s) => (
        <div key={s.service} class="diff-service">
          <h3>{s.service}</h3>
          <dl class="props">
            {s.changes.map((c) => (
              <Fragment key={c.field}>
                <dt>{FIELD_WORDS[c.field]}</dt>
                <dd data-diff-field={c.field}>
                  <Change c={c} />
                </dd>
              </Fragment>
            ))}
          </dl>
        </div>
      ))}
    </div>
  );
}
