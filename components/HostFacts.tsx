import { Fragment } from "preact";
import type { HostDetail } from "../lib/hosts/view.ts";
import { formatBytes } from "../lib/hosts/view.ts";
import { HostStatus } from "./HostsTable.tsx";
import { Time } from "./Time.tsx";
import { MIN_RESTIC_VERSION, resticSupported } from "../lib/protocol/snapshots.ts";

const str = (v: unknown) =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

/** Whether this host's volumes can be snapshotted: its restic version, or what is missing. */
export function ResticStatus(
  { host }: { host: Pick<HostDetail, "restic_version" | "agent_version"> },
) {
  const v = host.restic_version;
  // No hello yet: nothing is known about restic either.
  if (v === null && host.agent_version === null) return <span class="muted">—</span>;
  if (v !== null && resticSupported(v)) return <>restic {v}</>;
  const min = MIN_RESTIC_VERSION.replace(/\.0$/, "");
  return (
    <span class="warn-text" role="status">
      {v === null
        ? "restic is not installed: "
        : `restic ${v} is too old (no compression): `}snapshots of this host's volumes are not
      possible — install the restic package (≥ {min})
    </span>
  );
}

/** The engine facts a user needs (from Docker's /info and /version, as the agent's hello said). */
export function HostFacts({ host }: { host: HostDetail }) {
  const e = host.engine;
  const rows: [string, string | undefined][] = [
    ["Docker version", host.docker_version ?? str(e.docker_version)],
    ["API version", str(e.api_version)],
    ["Operating system", host.os ?? str(e.os)],
    ["Kernel", host.kernel ?? str(e.kernel)],
    ["Architecture", host.arch ?? str(e.arch)],
    ["CPUs", host.cpus === null ? undefined : String(host.cpus)],
    ["Memory", host.memory_bytes === null ? undefined : formatBytes(host.memory_bytes)],
    ["Storage driver", str(e.storage_driver)],
    ["Docker root dir", str(e.docker_root_dir)],
    ["Engine name", str(e.name)],
    ["Images", str(e.images)],
  ];
  return (
    <div class="grid-2">
      <section class="card" aria-labelledby="agent-title">
        <h2 id="agent-title">Agent</h2>
        <dl class="props">
          <dt>Status</dt>
          <dd data-host-status={host.id}>
            <HostStatus host={host} />
          </dd>
          <dt>Last seen</dt>
          <dd>{host.status === "online" ? "now" : <Time ms={host.last_seen_at} />}</dd>
          <dt>Agent version</dt>
          <dd>{host.agent_version ?? <span class="muted">—</span>}</dd>
          <dt>Snapshots</dt>
          <dd data-restic>
            <ResticStatus host={host} />
          </dd>
          <dt>Hostname</dt>
          <dd>{host.hostname ?? <span class="muted">—</span>}</dd>
          <dt>Machine id</dt>
          <dd>
            {host.machine_id ? <code>{host.machine_id}</code> : <span class="muted">—</span>}
          </dd>
          <dt>Containers</dt>
          <dd>
            {host.containers_total === null
              ? <span class="muted">—</span>
              : <>{host.containers_running ?? 0} running of {host.containers_total}</>}
          </dd>
          <dt>Added</dt>
          <dd>
            <Time ms={host.created_at} />
          </dd>
          <dt>Enrolled</dt>
          <dd>
            <Time ms={host.enrolled_at} />
          </dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="engine-title">
        <h2 id="engine-title">Docker engine</h2>
        {host.docker_version === null && Object.keys(e).length === 0
          ? <p class="muted">No facts yet: they arrive with the agent's first connection.</p>
          : (
            <dl class="props">
              {rows.map(([label, value]) => (
                <Fragment key={label}>
                  <dt>{label}</dt>
                  <dd>{value ?? <span class="muted">—</span>}</dd>
                </Fragment>
              ))}
            </dl>
          )}
      </section>
    </div>
  );
}
