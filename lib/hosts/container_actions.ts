/**
 * Actions on the containers of an organization's hosts: inspect (environment values hidden from
 * viewers), create after the create policy allowed its options, lifecycle actions and removal,
 * each audited once through `operate` and named in the audit row by its cached name.
 */
import { Conflict } from "../errors.ts";
import type { ContainerInspect } from "../docker/types.ts";
import type { ContainerCreateSpec } from "../protocol/ops.ts";
import {
  assertMayCreate,
  BUILTIN_NETWORK_MODES,
  effectiveSpec,
  powerfulFields,
} from "./container_policy.ts";
import { findCachedContainer } from "./container_ref.ts";
import type { DockerCaller, DockerDeps } from "./docker_actions.ts";
import { networkViews } from "./docker_views.ts";
import { isConflict, operate, query } from "./operate.ts";
import type { ActionContext } from "../audit/service.ts";

/** A container a user stopped through Capstan, once it has stopped. */
export interface ContainerStopped {
  org_id: string;
  host_id: string;
  container_id: string;
  /** Who stopped it (what follows, a snapshot on stop, is theirs in the audit log). */
  ctx: ActionContext;
}

declare module "../events.ts" {
  interface DomainEvents {
    /**
     * A user stopped a container through Capstan and it has stopped (not a crash, not Swarm):
     * the snapshots module snapshots its volumes marked "snapshot on stop".
     */
    "docker.container_stopped": ContainerStopped;
  }
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

/**
 * Container inspect; environment values are hidden from viewers (they often carry credentials),
 * and from everyone for the variables a Capstan secret fills (named by the task's
 * `capstan.secret_env` label): Capstan never shows a secret's value.
 */
export async function inspectContainer(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  id: string,
): Promise<ContainerInspect> {
  const data = await query<ContainerInspect>(deps, caller.orgId, hostId, "container.inspect", {
    id,
  });
  if (data?.Config?.Env) {
    const secret = new Set(
      (data.Config.Labels?.["capstan.secret_env"] ?? "").split(",").filter(Boolean),
    );
    data.Config.Env = data.Config.Env.map((e) => {
      const name = e.split("=", 1)[0];
      return caller.role === "viewer" || secret.has(name) ? `${name}=…` : e;
    });
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
  return await operate<{ id: string; warnings?: string[] }, "container.create">(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "container.created",
    target: { type: "container", name: spec.name ?? null },
    op: "container.create",
    params: { spec, start },
    metadata: { image: spec.image, start, powerful: Object.keys(powerfulFields(judged)) },
    after: (r) => ({ target: { type: "container", id: r.id, name: spec.name ?? r.id } }),
  });
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
  await operate(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: `container.${PAST[action]}`,
    target,
    op: `container.${action}`,
    params: params as never,
    metadata: { ...opts },
  });
  if (action === "stop") {
    deps.events?.emit("docker.container_stopped", {
      org_id: caller.orgId,
      host_id: hostId,
      container_id: target.id,
      ctx: caller.ctx,
    });
  }
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
  await operate(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "container.removed",
    target,
    op: "container.remove",
    params: { id, force: opts.force, volumes: opts.volumes },
    metadata: opts,
    mapError: (err) =>
      isConflict(err) && !opts.force
        ? new Conflict(
          `Cannot remove container "${target.name}": it is running; stop it first or force`,
        )
        : err,
  });
}
