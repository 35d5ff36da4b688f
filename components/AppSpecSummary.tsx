import type { App } from "../lib/apps/store.ts";
import type { AppSpec } from "../lib/apps/spec.ts";
import { bytes } from "./format.ts";

type Service = AppSpec["services"][number];

/** "1.5 CPU, 512 MiB", or "—". */
export function resourceText(r: { cpus?: number; memory_bytes?: number } | undefined): string {
  return [
    r?.cpus !== undefined ? `${r.cpus} CPU` : "",
    r?.memory_bytes !== undefined ? bytes(r.memory_bytes) : "",
  ].filter(Boolean).join(", ") || "—";
}

/** `80:8080/tcp (host)`: the container's port, the published one, protocol and mode. */
export function portText(p: Service["ports"][number]): string {
  return `${p.target}${
    p.published !== undefined ? `:${p.published}` : ""
  }/${p.protocol} (${p.mode})`;
}

/** How a service gets a secret: `file /run/secrets/DB (0400)`, `env DB_PASSWORD`, or both. */
function secretText(r: Service["secrets"][number]): string {
  return [
    r.file
      ? `file ${r.file.target ?? `/run/secrets/${r.secret}`} (0${r.file.mode.toString(8)})`
      : "",
    r.env ? `env ${r.env}` : "",
  ].filter(Boolean).join(", ");
}

/** One service's configuration as saved: what the next deployment runs. */
function ServiceFacts({ s }: { s: Service }) {
  const env = Object.keys(s.env);
  // Specs saved before services named secrets have none.
  const secrets = s.secrets ?? [];
  return (
    <dl class="props">
      <dt>Image</dt>
      <dd>
        <code>{s.image}</code>
      </dd>
      <dt>Replicas</dt>
      <dd>{s.global ? "one per node" : s.replicas}</dd>
      {s.command && (
        <>
          <dt>Command</dt>
          <dd>
            <code>{[...s.command, ...(s.args ?? [])].join(" ")}</code>
          </dd>
        </>
      )}
      <dt>Ports</dt>
      <dd>{s.ports.length ? s.ports.map(portText).join(", ") : "—"}</dd>
      <dt>Environment</dt>
      <dd>{env.length ? env.join(", ") : "—"}</dd>
      {secrets.length > 0 && (
        <>
          <dt>Secrets</dt>
          <dd>
            {secrets.map((r, i) => (
              <div key={i} data-app-secret={r.secret}>
                <code>{r.secret}</code> <span class="muted small">{secretText(r)}</span>
              </div>
            ))}
          </dd>
        </>
      )}
      <dt>Limits</dt>
      <dd>{resourceText(s.resources.limits)}</dd>
      <dt>Reservations</dt>
      <dd>{resourceText(s.resources.reservations)}</dd>
      <dt>Health check</dt>
      <dd>
        {s.health_check
          ? (
            <>
              <code>{s.health_check.cmd.join(" ")}</code> every {s.health_check.interval_s} s
            </>
          )
          : "the image's own, if any"}
      </dd>
      {s.depends_on.length > 0 && (
        <>
          <dt>Starts after</dt>
          <dd>{s.depends_on.join(", ")}</dd>
        </>
      )}
      {s.volumes.length > 0 && (
        <>
          <dt>Volumes</dt>
          <dd>
            {s.volumes.map((v) => `${v.name}:${v.target}${v.read_only ? ":ro" : ""}`).join(", ")}
          </dd>
        </>
      )}
    </dl>
  );
}

/** The app's saved configuration, a block per service (environment values are not shown). */
export function AppSpecSummary({ app }: { app: App }) {
  return (
    <section class="card app-spec" aria-labelledby="spec-title">
      <h2 id="spec-title">Configuration</h2>
      {app.spec.services.map((s) => (
        <div key={s.name} class="app-spec-service">
          {app.spec.services.length > 1 && <h3>{s.name}</h3>}
          <ServiceFacts s={s} />
        </div>
      ))}
    </section>
  );
}
