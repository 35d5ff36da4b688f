/**
 * Where a deployment pins its services, by the app's migration policy. `automatic`: nowhere, Swarm
 * places tasks and moves them off a node that fails. `manual` and `none`: each service carries a
 * `node.id==<node>` constraint, so Swarm never moves its tasks to another node; a move is a new
 * deployment (manual) or never happens (none). The node of a service is, in this order: the one a
 * move asked for, the current deployment's pin, the node most of its running tasks run on (an app
 * switched from automatic), and for a new service the ready, active node running the fewest tasks.
 */
import type { SwarmNode, SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import type { MigrationPolicy } from "./tables.ts";

/** The constraint that pins a service to a node. */
export const pinConstraint = (nodeId: string) => `node.id==${nodeId}`;

/** Whether a policy pins services to their node. */
export const pinsServices = (policy: MigrationPolicy) => policy !== "automatic";

/** A node tasks can be placed on now. */
export const usableNode = (n: SwarmNode) =>
  n.Spec.Availability === "active" && n.Status.State === "ready";

/** What resolving the pins of a deployment looks at. */
export interface PinInputs {
  policy: MigrationPolicy;
  services: string[];
  /** Pins the deployment was started with (a move). */
  asked: Record<string, string>;
  /** The pins of the app's current deployment. */
  current: Record<string, string>;
  /** The app's Swarm services by service name (absent for a new one). */
  existing: Map<string, SwarmService>;
  nodes: SwarmNode[];
  /** Tasks of the cluster (desired running ones count). */
  tasks: SwarmTask[];
}

/** Service name → node id for a deployment; empty for the automatic policy. */
export function resolvePins(i: PinInputs): Record<string, string> {
  if (!pinsServices(i.policy)) return {};
  const known = new Set(i.nodes.map((n) => n.ID));
  const running = i.tasks.filter((t) => t.DesiredState === "running" && t.NodeID);
  const out: Record<string, string> = {};
  for (const name of i.services) {
    // A pin to a node that left the cluster cannot be kept; anything else is, even a node that
    // is down: that is what manual and none promise.
    const kept = [i.asked[name], i.current[name]].find((n) => n && known.has(n));
    out[name] = kept ?? mostTasksOn(running, i.existing.get(name)?.ID) ?? leastBusy(i, running);
  }
  return out;
}

/** The node most running tasks of a service run on, if it has any. */
function mostTasksOn(running: SwarmTask[], serviceId: string | undefined): string | undefined {
  if (!serviceId) return undefined;
  const count = new Map<string, number>();
  for (const t of running) {
    if (t.ServiceID === serviceId) count.set(t.NodeID!, (count.get(t.NodeID!) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** The usable node running the fewest tasks (ids break ties, so the choice is stable). */
function leastBusy(i: PinInputs, running: SwarmTask[]): string {
  const usable = i.nodes.filter(usableNode);
  const pool = usable.length ? usable : i.nodes;
  const load = (id: string) => running.filter((t) => t.NodeID === id).length;
  const best = [...pool].sort((a, b) => load(a.ID) - load(b.ID) || a.ID.localeCompare(b.ID))[0];
  if (!best) throw new Error("the cluster has no node to pin a service to");
  return best.ID;
}
