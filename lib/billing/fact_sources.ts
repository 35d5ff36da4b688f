/**
 * The facts job's sources wired to the other modules' services (DESIGN §7: their services, never
 * their tables): Swarm's tasks through the cluster's manager (which container is whose), the
 * metrics store's newest samples (transmit counters), each host's engine through its agent
 * (volume sizes), the snapshot store (snapshot data) and the build store (ended builds).
 */
import type { Cluster } from "../apps/cluster.ts";
import { LABELS } from "../apps/swarm_spec.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Metrics } from "../metrics/service.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import type { Builds } from "../builds/service.ts";
import type { SwarmTask } from "../docker/swarm_types.ts";
import { volumeViews } from "../hosts/docker_views.ts";
import type { AppContainer, FactSources, SizedVolume } from "./facts.ts";

/** The transmit counter series of a container (agent/collectors/containers.ts). */
export const TX_COUNTER = "ctr.net_tx_bytes_total";
/** `system df` walks every volume: give a host this long. */
const VOLUMES_TIMEOUT_MS = 60_000;
const CONTAINER_ID = /^[a-f0-9]{64}$/;

/** App task containers of Swarm's tasks on nodes that are Capstan hosts. */
export function appContainers(
  tasks: SwarmTask[],
  hostOfNode: Map<string, string>,
  now: number,
): AppContainer[] {
  const out: AppContainer[] = [];
  for (const t of tasks) {
    const l = t.Spec.ContainerSpec?.Labels ?? {};
    const org_id = l[LABELS.org], app_id = l[LABELS.app];
    const container_id = t.Status.ContainerStatus?.ContainerID ?? "";
    const host_id = t.NodeID ? hostOfNode.get(t.NodeID) : undefined;
    if (!org_id || !app_id || !host_id || !CONTAINER_ID.test(container_id)) continue;
    const created = Date.parse(t.CreatedAt ?? "");
    out.push({
      host_id,
      container_id,
      org_id,
      app_id,
      created_at: Number.isFinite(created) ? created : now,
    });
  }
  return out;
}

export function factSources(deps: {
  cluster: Pick<Cluster, "info" | "manager" | "nodes">;
  agents: Pick<AgentRegistry, "isOnline" | "require">;
  metrics: Pick<Metrics, "overview">;
  snapshotStore: Pick<SnapshotStore, "storedBytes">;
  builds: { store: Pick<Builds["store"], "endedSince"> };
  now: () => number;
}): FactSources {
  return {
    async containers() {
      if (!await deps.cluster.info()) return [];
      const m = await deps.cluster.manager().catch(() => null);
      if (!m) return undefined;
      const [tasks, nodes] = await Promise.all([
        m.gw.tasks({ label: [LABELS.app] }),
        deps.cluster.nodes(),
      ]);
      const hostOf = new Map(
        nodes.flatMap((n) => n.host_id ? [[n.node_id, n.host_id] as [string, string]] : []),
      );
      return appContainers(tasks, hostOf, deps.now());
    },
    async txCounters(hostId, since) {
      const latest = await deps.metrics.overview.containerLatest(hostId, since);
      const out = new Map<string, { t: number; v: number }>();
      for (const [id, values] of latest) {
        const c = values[TX_COUNTER];
        if (c && Number.isFinite(c.v)) out.set(id, c);
      }
      return out;
    },
    async volumes(hostId): Promise<SizedVolume[] | undefined> {
      if (!deps.agents.isOnline(hostId)) return undefined;
      const r = await deps.agents.require(hostId).call<
        { volumes: Parameters<typeof volumeViews>[0] }
      >("volumes.list", { sizes: true }, VOLUMES_TIMEOUT_MS);
      return volumeViews(r.volumes ?? []).map((v) => ({
        name: v.name,
        size: v.size,
        users: v.containers.map((c) => c.id),
      }));
    },
    snapshotBytes: () => deps.snapshotStore.storedBytes(),
    buildsEnded: (after, limit) => deps.builds.store.endedSince(after, limit),
  };
}
