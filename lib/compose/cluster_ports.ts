/**
 * A converted Compose file's ports for the cluster it is deployed on: Compose's short ports
 * publish through Swarm's routing mesh (ingress), which a cluster may not have; there they are
 * published on the task's node instead (host mode), so the file still runs as written.
 */
import type { AppSpecInput } from "../apps/spec.ts";
import type { Cluster } from "../apps/cluster.ts";

/** The spec with ingress ports published in host mode where the cluster has no routing mesh. */
export async function portsForCluster(
  cluster: Pick<Cluster, "info">,
  spec: AppSpecInput,
): Promise<AppSpecInput> {
  const info = await cluster.info();
  if (!info || info.routing_mesh) return spec;
  return {
    ...spec,
    services: spec.services.map((s) => ({
      ...s,
      ports: s.ports?.map((p) => ({ ...p, mode: "host" as const })),
    })),
  };
}
