/**
 * Container use cases the API and the pages share: reading the hub's container cache (lists,
 * lookups, waiting for an action's event), a container's facts whether or not its agent is
 * connected, and removing a container together with its health checks. Routes call these with
 * the services and never touch the cache's table themselves.
 */
import type { ActionContext } from "../audit/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Db, Dialect } from "../db/mod.ts";
import type { ContainerInspect } from "../docker/types.ts";
import { NotFound } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import { type ContainerFacts, containerFacts } from "./container_facts.ts";
import {
  type CachedContainer,
  type ContainerFilters,
  listCachedContainers,
  waitForCache,
} from "./container_list.ts";
import { findCachedContainer } from "./container_ref.ts";
import { type DockerCaller, type DockerDeps, removeContainer } from "./docker_actions.ts";
import { type ExecRole, execRole } from "./exec_policy.ts";

/** What removing a container does with its health checks. */
export const CHECKS_ON_REMOVE = ["pause", "delete"] as const;
/** One of CHECKS_ON_REMOVE. */
export type ChecksOnRemove = (typeof CHECKS_ON_REMOVE)[number];

/** Reads of the container cache need the database and, for lists, its dialect and the time. */
export interface ContainerCacheDeps {
  db: Db;
  dbh: { dialect: Dialect };
  clock: Clock;
}

/** A cached container as a lookup by reference answers it. */
export type CachedRef = Awaited<ReturnType<typeof findCachedContainer>>;

/** One page of an organization's containers across its hosts, status texts as of now. */
export async function listContainers(
  deps: ContainerCacheDeps,
  orgId: string,
  filters: ContainerFilters,
): Promise<{ items: CachedContainer[]; total: number }> {
  return await listCachedContainers(deps.db, deps.dbh.dialect, orgId, filters, deps.clock.now());
}

/** The cached container a reference (name, full or short hex id) names on a host, or undefined. */
export async function findContainer(
  deps: Pick<ContainerCacheDeps, "db">,
  orgId: string,
  hostId: string,
  ref: string,
): Promise<CachedRef> {
  return await findCachedContainer(deps.db, orgId, hostId, ref);
}

/** Waits (briefly, quietly) until the cached container satisfies `done`: an action's event landed. */
export async function waitForContainer(
  deps: Pick<ContainerCacheDeps, "db">,
  orgId: string,
  hostId: string,
  ref: string,
  done: (c: { id: string; state: string; updated_at: number } | undefined) => boolean,
): Promise<void> {
  await waitForCache(deps.db, orgId, hostId, ref, done);
}

/** Names of an organization's cached containers by id (labels of scraped series). */
export async function containerNames(
  deps: Pick<ContainerCacheDeps, "db">,
  orgId: string,
): Promise<Map<string, string>> {
  const rows = await deps.db.selectFrom("containers").select(["id", "name"])
    .where("org_id", "=", orgId).limit(100_000).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * The container a new health check is for, from the cache: by full id or by name (with or without
 * Docker's leading slash); undefined when the cache does not know it.
 */
export async function cachedContainerForCheck(
  deps: Pick<ContainerCacheDeps, "db">,
  orgId: string,
  hostId: string,
  ref: string,
): Promise<
  { id: string; name: string; ports: { private_port: number; type: string }[] } | undefined
> {
  const row = await deps.db.selectFrom("containers").select(["id", "name", "ports"])
    .where("org_id", "=", orgId).where("host_id", "=", hostId)
    .where((eb) => eb.or([eb("id", "=", ref), eb("name", "=", ref), eb("name", "=", `/${ref}`)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, name: row.name.replace(/^\//, ""), ports: JSON.parse(row.ports) };
}

/**
 * A container's facts: live from its agent when connected, else the hub's cached summary (by id,
 * name or id prefix). NotFound when the agent or the cache does not know it.
 */
export async function containerFactsOf(
  deps: Pick<ContainerCacheDeps, "db"> & { agents: Pick<AgentRegistry, "isOnline" | "require"> },
  orgId: string,
  hostId: string,
  ref: string,
): Promise<{ facts: ContainerFacts; online: boolean }> {
  if (deps.agents.isOnline(hostId)) {
    const inspect = await deps.agents.require(hostId).call<ContainerInspect>(
      "container.inspect",
      { id: ref },
    );
    return { facts: containerFacts(inspect), online: true };
  }
  const row = await deps.db.selectFrom("containers").selectAll().where("org_id", "=", orgId)
    .where("host_id", "=", hostId).where((eb) =>
      eb.or([eb("id", "=", ref), eb("name", "=", ref), eb("id", "like", `${ref}%`)])
    ).executeTakeFirst();
  if (!row) throw new NotFound("container not found");
  const labels = JSON.parse(row.labels) as Record<string, string>;
  const ports = JSON.parse(row.ports) as {
    private_port: number;
    public_port?: number;
    type: string;
    ip?: string;
  }[];
  return {
    online: false,
    facts: {
      ...containerFacts({
        Id: row.id,
        Name: row.name,
        Created: new Date(row.created * 1000).toISOString(),
        Path: row.command,
        Args: [],
        Image: row.image_id,
        RestartCount: 0,
        State: { Status: row.state, Running: row.state === "running" } as ContainerInspect["State"],
        Config: { Tty: false, Image: row.image, Labels: labels },
        HostConfig: {},
        NetworkSettings: {},
        Mounts: [],
      }),
      command: row.command,
      ports: ports.map((p) => ({
        container: `${p.private_port}/${p.type}`,
        host: p.public_port ? `${p.ip || "0.0.0.0"}:${p.public_port}` : null,
      })),
    },
  };
}

/** What removing a container with its checks needs: the Docker actions and the health checks. */
export interface RemoveWithChecksDeps extends DockerDeps {
  health: {
    service: {
      containerRemoved(
        ctx: ActionContext,
        orgId: string,
        hostId: string,
        container: { id: string; name: string },
        mode: ChecksOnRemove,
      ): Promise<unknown>;
    };
  };
}

/**
 * Removes a container, then pauses or deletes its health checks as asked. Nothing happens to the
 * checks when the removal fails.
 */
export async function removeContainerWithChecks(
  deps: RemoveWithChecksDeps,
  caller: DockerCaller,
  hostId: string,
  ref: string,
  opts: { force: boolean; volumes: boolean; checks: ChecksOnRemove },
): Promise<void> {
  const cached = await findCachedContainer(deps.db, caller.orgId, hostId, ref);
  await removeContainer(deps, caller, hostId, ref, { force: opts.force, volumes: opts.volumes });
  // Unknown to the cache, its checks are marked gone when the engine's destroy event arrives.
  if (cached) {
    await deps.health.service.containerRemoved(
      caller.ctx,
      caller.orgId,
      hostId,
      cached,
      opts.checks,
    );
  }
}

/** The lowest role that may run commands in an organization's containers (its setting). */
export async function containerExecRole(
  deps: Pick<ContainerCacheDeps, "db">,
  orgId: string,
): Promise<ExecRole> {
  return await execRole(deps.db, orgId);
}
