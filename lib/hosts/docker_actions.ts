/**
 * Docker actions on an organization's hosts, shared by the API and the pages so both apply the
 * same rules: the create policy, force only for admins, protected system networks, clear 409s for
 * resources in use, and one audit row per action through `operate`.
 */
import type { ActionContext } from "../audit/service.ts";
import type { Db, Dialect } from "../db/mod.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import type {
  ContainerInspect,
  ImageDeleteItem,
  ImagePruneResult,
  ImageSummary,
} from "../docker/types.ts";
import { conflict, HttpError, notFound } from "../http/errors.ts";
import type { ContainerCreateSpec } from "../protocol/ops.ts";
import {
  assertMayCreate,
  BUILTIN_NETWORK_MODES,
  effectiveSpec,
  isDockerAdmin,
  powerfulFields,
} from "./container_policy.ts";
import { containersUsingImage, findCachedContainer, imageUsage } from "./container_list.ts";
import {
  findImage,
  findNetwork,
  type ImageView,
  imageViews,
  type NetworkView,
  networkViews,
  SYSTEM_NETWORKS,
  type VolumeView,
  volumeViews,
} from "./docker_views.ts";
import { operate, type OperateDeps, operateWith, query, validOp } from "./operate.ts";
import type { AgentConnection } from "../agents/connection.ts";

/** What the actions need from the services. */
export interface DockerDeps extends OperateDeps {
  db: Db;
  dbh: { dialect: Dialect };
}

/** Who is acting, in which organization, with which role (platform admins count as owners). */
export interface DockerCaller {
  ctx: ActionContext;
  orgId: string;
  role: OrgRole;
  tokenScope?: TokenScope;
}

/** Lifecycle actions on an existing container. */
export const CONTAINER_ACTIONS = ["start", "stop", "restart", "kill"] as const;
/** One of the lifecycle actions. */
export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];

const PAST: Record<ContainerAction | "remove" | "create", string> = {
  start: "started",
  stop: "stopped",
  restart: "restarted",
  kill: "killed",
  remove: "removed",
  create: "created",
};

/** The audit target of a container: its cached name when the cache knows it. */
async function containerTarget(deps: DockerDeps, orgId: string, hostId: string, ref: string) {
  const c = await findCachedContainer(deps.db, orgId, hostId, ref);
  return { type: "container", id: c?.id ?? ref, name: c?.name ?? ref };
}

/** Container inspect; environment values are hidden from viewers (they often carry credentials). */
export async function inspectContainer(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  id: string,
): Promise<ContainerInspect> {
  const data = await query<ContainerInspect>(deps, caller.orgId, hostId, "container.inspect", {
    id,
  });
  if (caller.role === "viewer" && data?.Config?.Env) {
    data.Config.Env = data.Config.Env.map((e) => `${e.split("=", 1)[0]}=…`);
  }
  return data;
}

/**
 * Creates (and optionally starts) a container, after the create policy allowed its options. A
 * network mode naming a network (by name or id) is looked up on the host first, so the host
 * network given by its id is judged as `host`.
 */
export async function createContainer(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  spec: ContainerCreateSpec,
  start: boolean,
): Promise<{ id: string; warnings?: string[] }> {
  const judged = spec.network_mode && !BUILTIN_NETWORK_MODES.has(spec.network_mode)
    ? effectiveSpec(
      spec,
      networkViews(await query(deps, caller.orgId, hostId, "networks.list", {})),
    )
    : spec;
  assertMayCreate(caller, judged);
  return await operate<{ id: string; warnings?: string[] }, "container.create">(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "container.created",
    { type: "container", name: spec.name ?? null },
    "container.create",
    { spec, start },
    {
      metadata: { image: spec.image, start, powerful: Object.keys(powerfulFields(judged)) },
      after: (r) => ({ target: { type: "container", id: r.id, name: spec.name ?? r.id } }),
    },
  );
}

/** Starts, stops, restarts or kills a container. */
export async function containerAction(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  id: string,
  action: ContainerAction,
  opts: { timeout_s?: number; signal?: string } = {},
): Promise<void> {
  const target = await containerTarget(deps, caller.orgId, hostId, id);
  const params = action === "kill"
    ? { id, ...(opts.signal ? { signal: opts.signal } : {}) }
    : action === "start"
    ? { id }
    : { id, ...(opts.timeout_s !== undefined ? { timeout_s: opts.timeout_s } : {}) };
  await operate(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    `container.${PAST[action]}`,
    target,
    `container.${action}`,
    params as never,
    { metadata: { ...opts } },
  );
}

/** Removes a container; `volumes` also removes its anonymous volumes. */
export async function removeContainer(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  id: string,
  opts: { force: boolean; volumes: boolean },
): Promise<void> {
  const target = await containerTarget(deps, caller.orgId, hostId, id);
  await operate(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "container.removed",
    target,
    "container.remove",
    {
      id,
      force: opts.force,
      volumes: opts.volumes,
    },
    {
      metadata: opts,
      mapError: (err) =>
        err instanceof HttpError && err.status === 409 && !opts.force
          ? conflict(
            `Cannot remove container "${target.name}": it is running; stop it first or force`,
          )
          : err,
    },
  );
}

/** Images of a host with their in-use counts. */
export async function listImages(
  deps: DockerDeps,
  caller: Pick<DockerCaller, "orgId">,
  hostId: string,
): Promise<ImageView[]> {
  const images = await query<ImageSummary[]>(deps, caller.orgId, hostId, "images.list", {});
  return imageViews(images, await imageUsage(deps.db, caller.orgId, hostId));
}

/**
 * Removes an image (or one of its tags). While a container uses it the engine refuses, and so do
 * we, naming the containers; `force` is for organization admins only.
 */
export async function removeImage(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  ref: string,
  force: boolean,
): Promise<ImageDeleteItem[]> {
  if (force && !isDockerAdmin(caller)) {
    throw new HttpError(403, "forbidden", "Only organization admins may force an image removal", {
      force: "only organization admins may force an image removal",
    });
  }
  const inUse = async (err: unknown, conn: AgentConnection) => {
    if (!(err instanceof HttpError) || err.status !== 409) return err;
    // Naming the users is worth a second look-up, on this path only.
    const images = await conn.call<ImageSummary[]>("images.list", {}).catch(() => []);
    const image = findImage(images, ref);
    const users = image ? await containersUsingImage(deps.db, caller.orgId, hostId, image.Id) : [];
    const who = users.length ? ` (${users.join(", ")})` : "";
    if (/running container/i.test(err.message)) {
      return conflict(
        `Cannot remove image "${ref}": a running container uses it${who}; stop it first`,
      );
    }
    const next = isDockerAdmin(caller) ? "or force the removal" : "or ask an admin to force it";
    return conflict(
      `Cannot remove image "${ref}": it is in use by containers${who}; remove them first ${next}`,
    );
  };
  return await operateWith(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "image.removed",
    { type: "image", name: ref },
    async (conn) => {
      try {
        return await conn.call<ImageDeleteItem[]>(
          "image.remove",
          validOp("image.remove", { ref, force }),
        );
      } catch (err) {
        throw await inUse(err, conn);
      }
    },
    { metadata: { force } },
  );
}

/** Removes the host's dangling images. */
export async function pruneImages(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
): Promise<{ deleted: number; space_reclaimed: number }> {
  const r = await operate<ImagePruneResult, "images.prune">(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "images.pruned",
    { type: "host", id: hostId },
    "images.prune",
    {},
    {
      after: (r) => ({
        metadata: { deleted: r.ImagesDeleted?.length ?? 0, space_reclaimed: r.SpaceReclaimed },
      }),
    },
  );
  return {
    deleted: (r.ImagesDeleted ?? []).filter((d) => d.Deleted).length,
    space_reclaimed: r.SpaceReclaimed,
  };
}

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
    throw new HttpError(
      409,
      "conflict",
      `Cannot create network "${input.name}": the name is reserved by Docker`,
      {
        name: "is reserved by Docker",
      },
    );
  }
  if (input.driver === "macvlan" && !isDockerAdmin(caller)) {
    throw new HttpError(403, "forbidden", "Only organization admins may create macvlan networks", {
      driver: "only organization admins may create macvlan networks",
    });
  }
  if (input.driver === "macvlan" && !input.parent) {
    throw new HttpError(400, "validation", "Invalid input: parent", {
      parent: "is required for macvlan (the host interface, like eth0)",
    });
  }
  if (input.gateway && !input.subnet) {
    throw new HttpError(400, "validation", "Invalid input: subnet", {
      subnet: "is required when a gateway is given",
    });
  }
  return await operate<{ id: string }, "network.create">(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "network.created",
    { type: "network", name: input.name },
    "network.create",
    input,
    {
      metadata: { driver: input.driver, subnet: input.subnet ?? null },
      after: (r) => ({ target: { type: "network", id: r.id, name: input.name } }),
    },
  );
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
    conflict(`Cannot remove network "${name}": it is a system network of the engine`);
  if (SYSTEM_NETWORKS.has(ref)) throw system(ref);
  const valid = validOp("network.remove", { id: ref });
  await operateWith(deps, caller.ctx, caller.orgId, hostId, "network.removed", {
    type: "network",
    name: ref,
  }, async (conn) => {
    const network = findNetwork(networkViews(await conn.call("networks.list", {})), valid.id);
    if (!network) throw notFound(`network "${ref}"`);
    if (network.protected) throw system(network.name);
    if (network.containers.length) {
      const names = network.containers.slice(0, 5).map((c) => c.name).join(", ");
      throw conflict(
        `Cannot remove network "${network.name}": ${network.containers.length} container(s) are attached (${names})`,
      );
    }
    await conn.call("network.remove", { id: network.name });
  });
}

/** Volumes of a host; sizes only when asked (the engine walks every volume to compute them). */
export async function listVolumes(
  deps: DockerDeps,
  caller: Pick<DockerCaller, "orgId">,
  hostId: string,
  sizes: boolean,
): Promise<VolumeView[]> {
  const r = await query<{ volumes: Parameters<typeof volumeViews>[0] }>(
    deps,
    caller.orgId,
    hostId,
    "volumes.list",
    { sizes },
  );
  return volumeViews(r.volumes);
}

/** Creates a named local volume. */
export async function createVolume(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  input: { name: string; labels?: Record<string, string> },
): Promise<{ name: string }> {
  const v = await operate<{ Name: string }, "volume.create">(
    deps,
    caller.ctx,
    caller.orgId,
    hostId,
    "volume.created",
    { type: "volume", id: input.name, name: input.name },
    "volume.create",
    { name: input.name, labels: input.labels },
  );
  return { name: v.Name };
}

/** Removes a volume; refused with 409 naming the containers while any container uses it. */
export async function removeVolume(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  name: string,
): Promise<void> {
  const valid = validOp("volume.remove", { name });
  await operateWith(deps, caller.ctx, caller.orgId, hostId, "volume.removed", {
    type: "volume",
    id: name,
    name,
  }, async (conn) => {
    try {
      await conn.call("volume.remove", valid);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 409) throw err;
      const r = await conn.call<{ volumes: Parameters<typeof volumeViews>[0] }>("volumes.list", {})
        .catch(() => ({ volumes: [] }));
      const users = volumeViews(r.volumes).find((v) => v.name === name)?.containers ?? [];
      const who = users.length
        ? `${users.length} container(s) (${users.slice(0, 5).map((c) => c.name).join(", ")})`
        : "a container";
      throw conflict(`Cannot remove volume "${name}": it is in use by ${who}`);
    }
  });
}
