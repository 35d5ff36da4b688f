import { Fragment } from "preact";
import type { ContainerFacts } from "../lib/hosts/container_facts.ts";
import { Time } from "./Time.tsx";
import { Badge } from "./Badge.tsx";

/** Badge colour of a container state. */
export function StateBadge({ state, health }: { state: string; health?: string | null }) {
  const tone = state === "running"
    ? (health === "unhealthy" ? "warn" : "ok")
    : state === "restarting" || state === "paused"
    ? "warn"
    : state === "exited" || state === "dead"
    ? "error"
    : "neutral";
  return <Badge tone={tone}>{health && state === "running" ? `${state} · ${health}` : state}
  </Badge>;
}

/** 67108864 → "64 MiB". */
function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
}

/** The inspect facts of a container: overview, ports, mounts, networks, labels, env names. */
export function ContainerDetails({ f }: { f: ContainerFacts }) {
  return (
    <div class="grid-2 container-details">
      <section class="card">
        <h2>Overview</h2>
        <dl class="props">
          <dt>ID</dt>
          <dd>
            <code title={f.id}>{f.id.slice(0, 12)}</code>
          </dd>
          <dt>Image</dt>
          <dd>
            <code>{f.image}</code>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time ms={f.createdAt} seconds />
          </dd>
          <dt>{f.running ? "Started" : "Last started"}</dt>
          <dd>
            <Time ms={f.startedAt} seconds />
          </dd>
          {!f.running && f.finishedAt && (
            <>
              <dt>Finished</dt>
              <dd>
                <Time ms={f.finishedAt} seconds />
                {f.exitCode !== null && <span class="muted">· exit code {f.exitCode}</span>}
                {f.oomKilled && <span class="error-text">· killed: out of memory</span>}
              </dd>
            </>
          )}
          <dt>Restart policy</dt>
          <dd>
            {f.restartPolicy}
            {f.restartCount > 0 && <span class="muted">· restarted {f.restartCount}×</span>}
          </dd>
          <dt>Command</dt>
          <dd>
            <code>{f.command || "—"}</code>
          </dd>
          {f.workingDir && (
            <>
              <dt>Working dir</dt>
              <dd>
                <code>{f.workingDir}</code>
              </dd>
            </>
          )}
          {f.user && (
            <>
              <dt>User</dt>
              <dd>
                <code>{f.user}</code>
              </dd>
            </>
          )}
          <dt>Limits</dt>
          <dd>
            {f.cpuLimitCores ? `${f.cpuLimitCores} CPUs` : "no CPU limit"} ·{" "}
            {f.memoryLimitBytes ? bytes(f.memoryLimitBytes) : "no memory limit"}
          </dd>
        </dl>
      </section>

      <section class="card">
        <h2>Network</h2>
        <h3 class="sub">Ports</h3>
        {f.ports.some((p) => p.configured) && (
          <p class="muted small">As configured: published while the container runs.</p>
        )}
        {f.ports.length === 0
          ? <p class="muted">No ports exposed.</p>
          : (
            <ul class="plain facts-list">
              {f.ports.map((p) => (
                <li key={`${p.container}-${p.host}`}>
                  <code>{p.host ?? "not published"}</code> → <code>{p.container}</code>
                </li>
              ))}
            </ul>
          )}
        <h3 class="sub">Networks</h3>
        {f.networks.length === 0
          ? <p class="muted">Not attached to a network.</p>
          : (
            <ul class="plain facts-list">
              {f.networks.map((n) => (
                <li key={n.name}>
                  <strong>{n.name}</strong> {n.ip && <code>{n.ip}</code>}{" "}
                  {n.gateway && <span class="muted">via {n.gateway}</span>}
                </li>
              ))}
            </ul>
          )}
        <h3 class="sub">Mounts</h3>
        {f.mounts.length === 0 ? <p class="muted">No mounts.</p> : (
          <ul class="plain facts-list">
            {f.mounts.map((m) => (
              <li key={m.destination}>
                <Badge>{m.type}</Badge> <code>{m.source}</code> → <code>{m.destination}</code>
                {m.readOnly && <span class="muted">(read-only)</span>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card">
        <h2>Labels</h2>
        {f.labels.length === 0 ? <p class="muted">No labels.</p> : (
          <dl class="props labels">
            {f.labels.map(([k, v]) => (
              <Fragment key={k}>
                <dt>
                  <code>{k}</code>
                </dt>
                <dd>
                  <code>{v}</code>
                </dd>
              </Fragment>
            ))}
          </dl>
        )}
      </section>

      <section class="card">
        <h2>Environment</h2>
        <p class="muted small">
          Names only: values often hold secrets, so Capstan never shows them.
        </p>
        {f.envNames.length === 0 ? <p class="muted">No variables.</p> : (
          <ul class="env-names">
            {f.envNames.map((n) => (
              <li key={n}>
                <code>{n}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
