/**
 * The install's one Swarm cluster, driven only through hosts' agents: created on a host (or an
 * engine already in a swarm adopted, after confirmation), other hosts joined as workers or
 * managers — the join token goes from the manager's agent to the joining agent through this
 * process and is never stored, logged or shown — nodes promoted, demoted, labelled, paused and
 * drained, and hosts taken out again. A drain never drops a service below its running replicas:
 * replacements start elsewhere first (a temporary scale-up while the node takes no new tasks),
 * and only once they run is the node drained and the scale put back.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { SwarmNode, SwarmTask } from "../docker/swarm_types.ts";
import { Conflict, Invalid, NotFound, Unavailable } from "../errors.ts";
import { type AgentCaller, agentGateway, type SwarmGateway } from "./gateway.ts";
import type { ClusterInfo } from "./deployer.ts";
import type { SwarmClusterTable } from "./tables.ts";

const CLUSTER_ID = "cluster";

/** What an agent says of its engine's swarm membership. */
export interface SwarmState {
  node_id: string;
  state: string;
  manager: boolean;
  cluster_id: string;
  node_addr: string;
  error: string;
  kernel: { ipvs: boolean; xfrm: boolean };
}

/** The cluster as the Settings panel and the Workers page show it. */
export interface ClusterView {
  swarm_id: string;
  manager_host_id: string | null;
  advertise_addr: string;
  routing_mesh: boolean;
  encrypted_networks: boolean;
  adopted: boolean;
  created_at: number;
}

/** A node with its host, for the Workers page. */
export interface NodeView {
  node_id: string;
  host_id: string | null;
  hostname: string;
  role: string;
  availability: string;
  state: string;
  addr: string;
  leader: boolean;
  reachability: string | null;
  engine_version: string;
  cpus: number;
  memory_bytes: number;
  reserved_cpus: number;
  reserved_memory_bytes: number;
  tasks: number;
  labels: Record<string, string>;
}

/** What the cluster service needs from the hub. */
export interface ClusterDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: Pick<AuditLog, "run">;
  /** A host's live agent (503 when offline). */
  agent(hostId: string): AgentCaller;
  isOnline(hostId: string): boolean;
  /** How long a drain may wait for replacements to run. */
  drainTimeoutMs?: number;
}

function view(r: SwarmClusterTable): ClusterView {
  return {
    swarm_id: r.swarm_id,
    manager_host_id: r.manager_host_id,
    advertise_addr: r.advertise_addr,
    routing_mesh: r.routing_mesh === 1,
    encrypted_networks: r.encrypted_networks === 1,
    adopted: r.adopted === 1,
    created_at: Number(r.created_at),
  };
}

/** Creates the cluster service. */
export function createCluster(deps: ClusterDeps) {
  const { db, clock } = deps;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function row(): Promise<SwarmClusterTable | undefined> {
    return await db.selectFrom("swarm_cluster").selectAll().where("id", "=", CLUSTER_ID)
      .executeTakeFirst();
  }

  async function required(): Promise<SwarmClusterTable> {
    const r = await row();
    if (!r) {
      throw new Unavailable(
        "There is no cluster yet: a platform admin creates it in Settings → Cluster",
        "no_cluster",
      );
    }
    return r;
  }

  /** The manager's gateway; 503 when there is no cluster or its manager's agent is away. */
  async function manager(): Promise<
    { gw: SwarmGateway; info: ClusterInfo; row: SwarmClusterTable }
  > {
    const r = await required();
    if (!r.manager_host_id || !deps.isOnline(r.manager_host_id)) {
      throw new Unavailable(
        "The cluster's manager host is not connected; apps cannot be changed until it is back",
        "manager_offline",
      );
    }
    return {
      gw: agentGateway(deps.agent(r.manager_host_id)),
      info: { routingMesh: r.routing_mesh === 1, encryptedNetworks: r.encrypted_networks === 1 },
      row: r,
    };
  }

  async function stateOf(hostId: string): Promise<SwarmState> {
    return await deps.agent(hostId).call<SwarmState>("swarm.state", {});
  }

  async function memberOf(hostId: string) {
    return await db.selectFrom("swarm_members").selectAll().where("host_id", "=", hostId)
      .executeTakeFirst();
  }

  async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number) {
    const deadline = clock.now() + timeoutMs;
    while (!(await check())) {
      if (clock.now() > deadline) throw new Unavailable(`Timed out waiting for ${what}`, "timeout");
      await sleep(500);
    }
  }

  const runningOn = (tasks: SwarmTask[], nodeId: string) =>
    tasks.filter((t) =>
      t.NodeID === nodeId && t.DesiredState === "running" && t.Status.State === "running"
    );

  /**
   * Moves every replicated task off a node without dropping below its running count: the node
   * takes no new tasks, each service is scaled up by what runs there, and once the replacements
   * run elsewhere the node is drained and each scale put back.
   */
  async function safeDrain(gw: SwarmGateway, nodeId: string): Promise<{ moved: number }> {
    await gw.updateNode(nodeId, { availability: "pause" });
    const all = await gw.tasks({ node: [nodeId] });
    const here = runningOn(all, nodeId);
    const bySvc = new Map<string, number>();
    for (const t of here) bySvc.set(t.ServiceID, (bySvc.get(t.ServiceID) ?? 0) + 1);
    const scaled: { id: string; replicas: number }[] = [];
    for (const [id, k] of bySvc) {
      const svc = await gw.inspect(id);
      if (!("Replicated" in svc.Spec.Mode)) continue;
      const replicas = svc.Spec.Mode.Replicated.Replicas;
      await gw.scale(id, replicas + k);
      scaled.push({ id, replicas });
    }
    const timeout = deps.drainTimeoutMs ?? 5 * 60_000;
    try {
      for (const s of scaled) {
        await waitFor(
          async () => {
            const tasks = await gw.tasks({ service: [s.id] });
            const elsewhere = tasks.filter((t) =>
              t.NodeID !== nodeId && t.DesiredState === "running" && t.Status.State === "running"
            );
            return elsewhere.length >= s.replicas;
          },
          "replacement tasks to run on other nodes",
          timeout,
        );
      }
      await gw.updateNode(nodeId, { availability: "drain" });
      await waitFor(
        async () => runningOn(await gw.tasks({ node: [nodeId] }), nodeId).length === 0,
        "the node's tasks to stop",
        timeout,
      );
    } finally {
      // The scale goes back even when waiting failed: a stuck drain must not leave services big.
      for (const s of scaled) {
        await gw.scale(s.id, s.replicas).catch((e) =>
          deps.log.error("cluster: cannot restore a service's scale", { error: String(e) })
        );
      }
    }
    return { moved: here.length };
  }

  return {
    /** The cluster, or undefined before one was created. */
    async info(): Promise<ClusterView | undefined> {
      const r = await row();
      return r ? view(r) : undefined;
    },

    manager,

    /** What a host's engine says of its swarm membership (the Settings panel, before creating). */
    state: stateOf,

    /**
     * Creates the cluster on a host's engine (swarm init), or adopts the swarm that engine is
     * already a manager of when `adopt` confirms it; 409 when a cluster exists.
     */
    async create(
      ctx: ActionContext,
      input: { hostId: string; advertiseAddr: string; adopt?: boolean },
    ): Promise<ClusterView> {
      return await deps.audit.run(ctx, "cluster.created", {
        target: { type: "host", id: input.hostId },
        metadata: { advertise_addr: input.advertiseAddr, adopt: Boolean(input.adopt) },
      }, async () => {
        if (await row()) throw new Conflict("A cluster exists already", "cluster_exists");
        const agent = deps.agent(input.hostId);
        let st = await stateOf(input.hostId);
        let adopted = false;
        if (st.state === "active") {
          if (!st.manager) {
            throw new Conflict(
              "This host's engine is a worker of another swarm; create the cluster on a manager",
              "not_a_manager",
            );
          }
          if (!input.adopt) {
            throw new Conflict(
              "This host's engine is already a swarm manager: confirm to adopt that swarm",
              "adopt_required",
              { adopt: "confirm adopting the existing swarm" },
            );
          }
          adopted = true;
        } else {
          await agent.call("swarm.init", { advertise_addr: input.advertiseAddr }, 90_000);
          st = await stateOf(input.hostId);
        }
        const now = clock.now();
        const r: SwarmClusterTable = {
          id: CLUSTER_ID,
          swarm_id: st.cluster_id || st.node_id,
          manager_host_id: input.hostId,
          advertise_addr: st.node_addr || input.advertiseAddr,
          routing_mesh: st.kernel.ipvs ? 1 : 0,
          encrypted_networks: st.kernel.xfrm ? 1 : 0,
          adopted: adopted ? 1 : 0,
          created_by: ctx.actor.type === "user" ? ctx.actor.id ?? null : null,
          created_at: now,
        };
        await db.insertInto("swarm_cluster").values(r).execute();
        await db.insertInto("swarm_members").values({
          host_id: input.hostId,
          node_id: st.node_id,
          role: "manager",
          joined_at: now,
        }).onConflict((oc) => oc.column("host_id").doUpdateSet({ node_id: st.node_id }))
          .execute();
        return view(r);
      });
    },

    /** Joins a host's engine to the cluster; the join token never leaves this call. */
    async join(
      ctx: ActionContext,
      hostId: string,
      opts: { role?: "worker" | "manager"; advertiseAddr?: string } = {},
    ): Promise<{ node_id: string }> {
      const role = opts.role ?? "worker";
      return await deps.audit.run(ctx, "cluster.host_joined", {
        target: { type: "host", id: hostId },
        metadata: { role },
      }, async () => {
        const { row: c } = await manager();
        if (await memberOf(hostId)) throw new Conflict("This host is already in the cluster");
        const st = await stateOf(hostId);
        if (st.state === "active") {
          throw new Conflict(
            "This host's engine is already in a swarm; make it leave that swarm first",
            "in_other_swarm",
          );
        }
        const tokens = await deps.agent(c.manager_host_id!).call<
          { worker: string; manager: string; manager_addr: string }
        >("swarm.join_tokens", {});
        await deps.agent(hostId).call("swarm.join", {
          remote_addrs: [tokens.manager_addr],
          token: role === "manager" ? tokens.manager : tokens.worker,
          advertise_addr: opts.advertiseAddr,
        }, 90_000);
        const joined = await stateOf(hostId);
        await db.insertInto("swarm_members").values({
          host_id: hostId,
          node_id: joined.node_id,
          role,
          joined_at: clock.now(),
        }).execute();
        return { node_id: joined.node_id };
      });
    },

    /** Drains a host's node safely, makes its engine leave and removes the node. */
    async leave(ctx: ActionContext, hostId: string): Promise<void> {
      await deps.audit.run(
        ctx,
        "cluster.host_left",
        { target: { type: "host", id: hostId } },
        async () => {
          const m = await memberOf(hostId);
          if (!m) throw new NotFound("This host is not in the cluster");
          const { gw, row: c } = await manager();
          if (c.manager_host_id === hostId) {
            throw new Conflict(
              "The cluster's manager host cannot leave; make another host the manager first",
              "is_manager",
            );
          }
          await safeDrain(gw, m.node_id);
          if (deps.isOnline(hostId)) {
            await deps.agent(hostId).call("swarm.leave", { force: m.role === "manager" }, 90_000);
          }
          await waitFor(
            async () => {
              const n = (await gw.nodes()).find((x) => x.ID === m.node_id);
              return !n || n.Status.State === "down";
            },
            "the node to go down",
            60_000,
          ).catch(() => {});
          await gw.removeNode(m.node_id, true);
          await db.deleteFrom("swarm_members").where("host_id", "=", hostId).execute();
        },
      );
    },

    /** Sets a node's availability; "drain" moves its tasks first (never below running replicas). */
    async setAvailability(
      ctx: ActionContext,
      hostId: string,
      availability: "active" | "pause" | "drain",
    ): Promise<{ moved?: number }> {
      return await deps.audit.run(ctx, "cluster.node_availability", {
        target: { type: "host", id: hostId },
        metadata: { availability },
      }, async () => {
        const m = await memberOf(hostId);
        if (!m) throw new NotFound("This host is not in the cluster");
        const { gw } = await manager();
        if (availability === "drain") return await safeDrain(gw, m.node_id);
        await gw.updateNode(m.node_id, { availability });
        return {};
      });
    },

    /** Promotes or demotes a host's node. */
    async setRole(ctx: ActionContext, hostId: string, role: "worker" | "manager"): Promise<void> {
      await deps.audit.run(ctx, "cluster.node_role", {
        target: { type: "host", id: hostId },
        metadata: { role },
      }, async () => {
        const m = await memberOf(hostId);
        if (!m) throw new NotFound("This host is not in the cluster");
        const { gw, row: c } = await manager();
        if (role === "worker" && c.manager_host_id === hostId) {
          throw new Conflict("The cluster's manager host cannot be demoted", "is_manager");
        }
        await gw.updateNode(m.node_id, { role });
        await db.updateTable("swarm_members").set({ role }).where("host_id", "=", hostId).execute();
      });
    },

    /** Replaces a host's node labels (placement constraints use them). */
    async setLabels(
      ctx: ActionContext,
      hostId: string,
      labels: Record<string, string>,
    ): Promise<void> {
      await deps.audit.run(ctx, "cluster.node_labels", {
        target: { type: "host", id: hostId },
        metadata: { labels },
      }, async () => {
        const m = await memberOf(hostId);
        if (!m) throw new NotFound("This host is not in the cluster");
        const { gw } = await manager();
        if (Object.keys(labels).length > 64) {
          throw new Invalid("Too many labels", { labels: "at most 64" });
        }
        await gw.updateNode(m.node_id, { labels });
      });
    },

    /** The cluster's nodes with their hosts, capacity, reservations and task counts. */
    async nodes(): Promise<NodeView[]> {
      const { gw } = await manager();
      const [nodes, tasks, members] = await Promise.all([
        gw.nodes(),
        gw.tasks({}),
        db.selectFrom("swarm_members").selectAll().execute(),
      ]);
      const hostOf = new Map(members.map((m) => [m.node_id, m.host_id]));
      return nodes.map((n: SwarmNode) => {
        const on = tasks.filter((t) => t.NodeID === n.ID && t.DesiredState === "running");
        let cpu = 0;
        let mem = 0;
        for (const t of on) {
          cpu += t.Spec.Resources?.Reservations?.NanoCPUs ?? 0;
          mem += t.Spec.Resources?.Reservations?.MemoryBytes ?? 0;
        }
        return {
          node_id: n.ID,
          host_id: hostOf.get(n.ID) ?? null,
          hostname: n.Description.Hostname,
          role: n.Spec.Role,
          availability: n.Spec.Availability,
          state: n.Status.State,
          addr: n.Status.Addr,
          leader: n.ManagerStatus?.Leader === true,
          reachability: n.ManagerStatus?.Reachability ?? null,
          engine_version: n.Description.Engine.EngineVersion,
          cpus: n.Description.Resources.NanoCPUs / 1e9,
          memory_bytes: n.Description.Resources.MemoryBytes,
          reserved_cpus: cpu / 1e9,
          reserved_memory_bytes: mem,
          tasks: on.length,
          labels: n.Spec.Labels ?? {},
        };
      });
    },

    /** The node of a host, if it is in the cluster. */
    member: memberOf,
  };
}

export type Cluster = ReturnType<typeof createCluster>;
