import type { HostView } from "../lib/hosts/view.ts";
import { formatBytes } from "../lib/hosts/view.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Online, offline, or waiting for its agent to enroll. */
export function HostStatus({ host }: { host: Pick<HostView, "status" | "enrolled"> }) {
  if (host.status === "online") return <Badge tone="ok">online</Badge>;
  if (!host.enrolled) return <Badge tone="warn">waiting for agent</Badge>;
  return <Badge tone="error">offline</Badge>;
}

const dash = <span class="muted">—</span>;

/** Every host of the organization with its agent status and the facts its agent reported. */
export function HostsTable({ hosts, base }: { hosts: HostView[]; base: string }) {
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Status</th>
            <th scope="col">Containers</th>
            <th scope="col">Docker</th>
            <th scope="col">OS</th>
            <th scope="col">Resources</th>
            <th scope="col">Agent</th>
          </tr>
        </thead>
        <tbody>
          {hosts.map((h) => (
            <tr key={h.id}>
              <td class="card-title">
                <a class="nowrap" href={`${base}/hosts/${encodeURIComponent(h.id)}`}>{h.name}</a>
                {h.local && <span class="muted small nowrap host-local">(this hub)</span>}
                {Object.keys(h.labels).length > 0 && (
                  <div class="labels">
                    {Object.entries(h.labels).slice(0, 4).map(([k, v]) => (
                      <code key={k} class="label">{k}={v}</code>
                    ))}
                  </div>
                )}
              </td>
              <td data-label="Status">
                <span data-host-status={h.id}>
                  <HostStatus host={h} />
                </span>
                {h.status !== "online" && h.last_seen_at !== null && (
                  <div class="muted small nowrap">
                    seen <Time ms={h.last_seen_at} />
                  </div>
                )}
              </td>
              <td data-label="Containers" class="nowrap">
                {h.containers_total === null
                  ? dash
                  : <>{h.containers_running ?? 0} running / {h.containers_total}</>}
              </td>
              <td data-label="Docker" class="nowrap">{h.docker_version ?? dash}</td>
              <td data-label="OS">{h.os ?? dash}</td>
              <td data-label="Resources" class="nowrap">
                {h.cpus === null ? dash : <>{h.cpus} CPUs · {formatBytes(h.memory_bytes)}</>}
              </td>
              <td data-label="Agent" class="nowrap">{h.agent_version ?? dash}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
