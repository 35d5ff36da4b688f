/** A host as services show it, and the columns that make it (never the token hash). */
import type { HostsTable } from "../db/schema.ts";

export type Host = Omit<HostsTable, "token_hash" | "labels" | "engine"> & {
  labels: Record<string, string>;
  engine: Record<string, unknown>;
};

/** The columns of a Host: every one but the token hash. */
export const HOST_COLUMNS = [
  "id",
  "org_id",
  "name",
  "labels",
  "local",
  "machine_id",
  "created_at",
  "enrolled_at",
  "last_seen_at",
  "agent_version",
  "hostname",
  "docker_version",
  "os",
  "kernel",
  "arch",
  "cpus",
  "memory_bytes",
  "containers_running",
  "containers_total",
  "engine",
  "removed_at",
  "restic_version",
] as const;

/** A host row with its JSON columns parsed. */
export function hostView(row: Omit<HostsTable, "token_hash">): Host {
  return { ...row, labels: JSON.parse(row.labels), engine: JSON.parse(row.engine) };
}

/** A new host row: nothing the agent reports is known yet. */
export function newHostRow(
  fields: Pick<HostsTable, "id" | "org_id" | "name" | "labels" | "local" | "machine_id">,
  at: { created_at: number; enrolled_at: number | null },
): HostsTable {
  return {
    ...fields,
    ...at,
    token_hash: null,
    last_seen_at: null,
    agent_version: null,
    hostname: null,
    docker_version: null,
    os: null,
    kernel: null,
    arch: null,
    cpus: null,
    memory_bytes: null,
    containers_running: null,
    containers_total: null,
    engine: "{}",
    removed_at: null,
    restic_version: null,
  };
}
