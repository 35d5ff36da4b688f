import type { Host } from "./service.ts";

/** A host as the API and pages show it: facts plus whether its agent is connected now. */
export interface HostView {
  id: string;
  name: string;
  labels: Record<string, string>;
  local: boolean;
  status: "online" | "offline";
  /** False until an agent exchanged the enrollment token. */
  enrolled: boolean;
  created_at: number;
  enrolled_at: number | null;
  last_seen_at: number | null;
  agent_version: string | null;
  hostname: string | null;
  docker_version: string | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  cpus: number | null;
  memory_bytes: number | null;
  containers_running: number | null;
  containers_total: number | null;
  /** restic on the host (volume snapshots need ≥ 0.14); null: none, or not reported yet. */
  restic_version: string | null;
}

/** The engine facts of the agent's last hello (Docker's /info and /version). */
export interface HostDetail extends HostView {
  machine_id: string | null;
  engine: Record<string, unknown>;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** The list view of a host; `online` comes from the agent registry. */
export function hostView(h: Host, online: boolean): HostView {
  return {
    id: h.id,
    name: h.name,
    labels: h.labels,
    local: Boolean(h.local),
    status: online ? "online" : "offline",
    enrolled: h.enrolled_at !== null,
    created_at: Number(h.created_at),
    enrolled_at: num(h.enrolled_at),
    last_seen_at: num(h.last_seen_at),
    agent_version: h.agent_version,
    hostname: h.hostname,
    docker_version: h.docker_version,
    os: h.os,
    kernel: h.kernel,
    arch: h.arch,
    cpus: num(h.cpus),
    memory_bytes: num(h.memory_bytes),
    containers_running: num(h.containers_running),
    containers_total: num(h.containers_total),
    restic_version: h.restic_version ?? null,
  };
}

/** The detail view: the list view plus machine id and engine facts. */
export function hostDetail(h: Host, online: boolean): HostDetail {
  return { ...hostView(h, online), machine_id: h.machine_id, engine: h.engine };
}

/** Bytes as a short human figure (binary units, as Docker reports memory). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
