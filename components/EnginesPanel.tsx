import { formatBytes } from "../lib/hosts/view.ts";
import type { Host } from "../lib/hosts/rows.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";
import { EmptyState } from "./EmptyState.tsx";

/** One host's engine as the panel shows it. */
export interface EngineRow {
  host: Pick<
    Host,
    | "id"
    | "name"
    | "local"
    | "docker_version"
    | "os"
    | "kernel"
    | "arch"
    | "cpus"
    | "memory_bytes"
    | "last_seen_at"
    | "engine"
  >;
  online: boolean;
  /** The engine's socket when the hub knows it (the embedded agent's). */
  socket: string | null;
}

/**
 * Settings → Docker engines: each host's engine as its agent last reported it — status, version,
 * OS, CPUs, memory, storage driver and data root — and where the socket is.
 */
export function EnginesPanel({ rows, hostsHref }: { rows: EngineRow[]; hostsHref: string }) {
  if (!rows.length) {
    return (
      <EmptyState title="No engines yet">
        <p>
          Each host's Docker Engine shows here once its agent connects.{" "}
          <a href={hostsHref}>Add a host</a>.
        </p>
      </EmptyState>
    );
  }
  return (
    <section class="card" aria-labelledby="engines-title">
      <h2 id="engines-title">Docker engines</h2>
      <p class="muted small">
        As each agent last reported it. Capstan reaches an engine only through its host's agent,
        over the engine's Unix socket; no Docker port is opened.
      </p>
      <div class="table-wrap">
        <table class="table-cards">
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Engine</th>
              <th scope="col">Version</th>
              <th scope="col">OS</th>
              <th scope="col">CPUs</th>
              <th scope="col">Memory</th>
              <th scope="col">Storage</th>
              <th scope="col">Socket</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ host, online, socket }) => {
              const e = host.engine as Record<string, string | number | undefined>;
              return (
                <tr key={host.id} data-engine={host.id}>
                  <td class="card-title">
                    <a href={`${hostsHref}/${encodeURIComponent(host.id)}`}>{host.name}</a>
                  </td>
                  <td data-label="Engine">
                    <Badge tone={online ? "ok" : "neutral"}>
                      {online ? "connected" : "offline"}
                    </Badge>
                  </td>
                  <td data-label="Version">
                    {host.docker_version ?? "—"}
                    {e.api_version
                      ? <span class="muted small">{` (API ${e.api_version})`}</span>
                      : null}
                  </td>
                  <td data-label="OS">
                    {[host.os, host.kernel, host.arch].filter(Boolean).join(" · ") || "—"}
                  </td>
                  <td data-label="CPUs">{host.cpus ?? "—"}</td>
                  <td data-label="Memory">{formatBytes(host.memory_bytes)}</td>
                  <td data-label="Storage">
                    {e.storage_driver
                      ? (
                        <>
                          {e.storage_driver} in <code>{e.docker_root_dir}</code>
                        </>
                      )
                      : "—"}
                  </td>
                  <td data-label="Socket">
                    {socket
                      ? <code>{socket}</code>
                      : <span class="muted">set on the host's agent</span>}
                  </td>
                  <td data-label="Last seen">
                    <Time ms={host.last_seen_at} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
