/**
 * Networks of an organization's hosts: the list with attached containers, creation (macvlan only
 * for admins, Docker's reserved names refused before the agent is asked) and removal (system
 * networks and networks with containers attached refused, naming them).
 */
import { Conflict, Forbidden, Invalid, NotFound } from "../errors.ts";
import { isDockerAdmin } from "./container_policy.ts";
import type { DockerCaller, DockerDeps } from "./docker_actions.ts";
import { findNetwork, type NetworkView, networkViews, SYSTEM_NETWORKS } from "./docker_views.ts";
import { operate, operateWith, query, validOp } from "./operate.ts";

/** Networks of a host with the containers attached to each. */
export async function listNetworks(
  deps: DockerDeps,
  caller: Pick<DockerCaller, "orgId">,
  hostId: string,
): Promise<NetworkView[]> {
  return networkViews(await query(deps, caller.orgId, hostId, "networks.list", {}));
}

/** Input of a network create. */
export interface NetworkInput {
  name: string;
  driver: "bridge" | "overlay" | "macvlan";
  subnet?: string;
  gateway?: string;
  parent?: string;
  labels?: Record<string, string>;
}

/**
 * Creates a network. macvlan puts containers straight on a host interface's LAN, so it is for
 * admins; system network names are refused before the agent is asked.
 */
export async function createNetwork(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  input: NetworkInput,
): Promise<{ id: string }> {
  if (SYSTEM_NETWORKS.has(input.name)) {
    throw new Conflict(
      `Cannot create network "${input.name}": the name is reserved by Docker`,
      "conflict",
      { name: "is reserved by Docker" },
    );
  }
  if (input.driver === "macvlan" && !isDockerAdmin(caller)) {
    throw new Forbidden("Only organization admins may create macvlan networks", {
      driver: "only organization admins may create macvlan networks",
    });
  }
  if (input.driver === "macvlan" && !input.parent) {
    throw new Invalid("Invalid input: parent", {
      parent: "is required for macvlan (the host interface, like eth0)",
    });
  }
  if (input.gateway && !input.subnet) {
    throw new Invalid("Invalid input: subnet", { subnet: "is required when a gateway is given" });
  }
  return await operate<{ id: string }, "network.create">(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "network.created",
    target: { type: "network", name: input.name },
    op: "network.create",
    params: input,
    metadata: { driver: input.driver, subnet: input.subnet ?? null },
    after: (r) => ({ target: { type: "network", id: r.id, name: input.name } }),
  });
}

/**
 * Removes a network. System networks are refused by name before the agent is asked, and by what
 * they are when named by id; networks with containers attached are refused with the names (409).
 */
export async function removeNetwork(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  ref: string,
): Promise<void> {
  const system = (name: string) =>
    new Conflict(`Cannot remove network "${name}": it is a system network of the engine`);
  if (SYSTEM_NETWORKS.has(ref)) throw system(ref);
  const valid = validOp("network.remove", { id: ref });
  await operateWith(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "network.removed",
    target: { type: "network", name: ref },
    run: async (conn) => {
      const network = findNetwork(networkViews(await conn.call("networks.list", {})), valid.id);
      if (!network) throw new NotFound(`network "${ref}" not found`);
      if (network.protected) throw system(network.name);
      if (network.containers.length) {
        const names = network.containers.slice(0, 5).map((c) => c.name).join(", ");
        throw new Conflict(
          `Cannot remove network "${network.name}": ${network.containers.length} container(s) are attached (${names})`,
        );
      }
      await conn.call("network.remove", { id: network.name });
    },
  });
}
