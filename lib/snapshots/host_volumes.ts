/**
 * What the snapshots module needs to know of a host's volumes: which exist, and which containers
 * mount each with their labels (an app's Swarm task container carries `capstan.app` and
 * `capstan.service`, lib/apps/swarm_spec.ts). The engine answers the volumes and their users
 * through the agent (`volumes.list`); the labels come from the hub's container cache, so one
 * agent call answers a whole host.
 */
import type { Db } from "../db/mod.ts";
import type { AgentConnection } from "../agents/connection.ts";
import { LABELS } from "../apps/swarm_spec.ts";
import { type VolumeView, volumeViews } from "../hosts/docker_views.ts";

/** A container that mounts a volume. */
export interface VolumeUser {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** A volume of one host with the containers that mount it. */
export interface HostVolume {
  name: string;
  driver: string;
  created: number | null;
  labels: Record<string, string>;
  users: VolumeUser[];
  /** The app (and service) whose task container mounts it, when one does. */
  app_id: string | null;
  service: string | null;
}

/** The host's volumes (at most `limit`), each with its users and their cached labels. */
export async function hostVolumes(
  conn: Pick<AgentConnection, "call">,
  db: Db,
  orgId: string,
  hostId: string,
  limit = 2000,
): Promise<HostVolume[]> {
  const r = await conn.call<{ volumes: Parameters<typeof volumeViews>[0] }>("volumes.list", {
    sizes: false,
  });
  const views: VolumeView[] = volumeViews(r.volumes ?? []).slice(0, limit);
  const ids = [...new Set(views.flatMap((v) => v.containers.map((c) => c.id)))];
  const labels = new Map<string, Record<string, string>>();
  // In slices: the IN list stays small for either database.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom("containers").select(["id", "labels"])
      .where("org_id", "=", orgId).where("host_id", "=", hostId)
      .where("id", "in", ids.slice(i, i + 500)).execute();
    for (const row of rows) labels.set(row.id, parseLabels(row.labels));
  }
  return views.map((v) => {
    const users = v.containers.map((c) => ({ ...c, labels: labels.get(c.id) ?? {} }));
    const task = users.find((u) => u.labels[LABELS.app]);
    return {
      name: v.name,
      driver: v.driver,
      created: v.created,
      labels: v.labels,
      users,
      app_id: task?.labels[LABELS.app] ?? null,
      service: task?.labels[LABELS.service] ?? null,
    };
  });
}

function parseLabels(text: string): Record<string, string> {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v as Record<string, string> : {};
  } catch {
    return {};
  }
}

/**
 * A host's volumes through `volumes`, or undefined when its agent is offline, fails or does not
 * answer within `ms` (a page must not wait on one slow host).
 */
export async function hostVolumesWithin(
  deps: {
    agent: (hostId: string) => AgentConnection | undefined;
    volumes: (conn: AgentConnection, orgId: string, hostId: string) => Promise<HostVolume[]>;
  },
  orgId: string,
  hostId: string,
  ms: number,
): Promise<HostVolume[] | undefined> {
  const conn = deps.agent(hostId);
  if (!conn) return undefined;
  let timer: number | undefined;
  return await Promise.race([
    deps.volumes(conn, orgId, hostId),
    new Promise<undefined>((r) => timer = setTimeout(r, ms)),
  ]).catch(() => undefined).finally(() => clearTimeout(timer));
}
