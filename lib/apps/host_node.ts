/**
 * A host's place in the cluster, for its host page: its node (role, availability, state,
 * capacity and reservations) and the app tasks it runs. Best effort within a short wait: a host
 * page must not hang on an absent or slow manager, so it then shows no cluster section.
 */
import type { Cluster, NodeView } from "./cluster.ts";
import type { AppStore } from "./store.ts";
import { LABELS } from "./swarm_spec.ts";

/** One app task running on the host's node. */
export interface HostTask {
  app_id: string | null;
  /** The app's name in this organization; null for another organization's task. */
  app: string | null;
  service: string;
  slot: number | null;
  state: string;
}

/** The host's node and its tasks. */
export interface HostNode {
  node: NodeView;
  tasks: HostTask[];
  /** Tasks of other organizations' apps on the same node (counted, not named). */
  others: number;
}

/** How long the host page waits for the manager before leaving the section out. */
const WAIT_MS = 2_000;

/** The node of `hostId` and the tasks on it, or undefined (not in the cluster, manager away). */
export async function hostNode(
  deps: { cluster: Cluster; store: AppStore },
  orgId: string,
  hostId: string,
): Promise<HostNode | undefined> {
  const member = await deps.cluster.member(hostId);
  if (!member) return undefined;
  const work = (async () => {
    const { gw } = await deps.cluster.manager();
    const node = (await deps.cluster.nodes()).find((n) => n.host_id === hostId);
    if (!node) return undefined;
    const tasks = (await gw.tasks({ node: [node.node_id] }))
      .filter((t) => t.DesiredState === "running");
    const mine: HostTask[] = [];
    let others = 0;
    for (const t of tasks) {
      const labels = t.Spec.ContainerSpec?.Labels ?? {};
      if (labels[LABELS.org] !== orgId) {
        others++;
        continue;
      }
      const appId = labels[LABELS.app] ?? null;
      const app = appId ? await deps.store.byId(appId) : undefined;
      mine.push({
        app_id: appId,
        app: app?.name ?? null,
        service: labels[LABELS.service] ?? t.ServiceID.slice(0, 12),
        slot: t.Slot ?? null,
        state: t.Status.State,
      });
    }
    mine.sort((a, b) =>
      `${a.app}${a.service}${a.slot}`.localeCompare(`${b.app}${b.service}${b.slot}`)
    );
    return { node, tasks: mine, others };
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), WAIT_MS));
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
