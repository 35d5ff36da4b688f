/**
 * How the apps module reaches Swarm: operations of the closed list (lib/protocol/swarm.ts) on the
 * agent of the cluster's manager host. Narrow, so the deployer's tests can count and script calls.
 */
import type { SwarmNode, SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import type { ServiceSpec as DockerServiceSpec } from "../docker/services.ts";
import { LABELS, networkNames } from "./swarm_spec.ts";
import { base64 } from "../util/ids.ts";

/** A log line of a service's task. */
export interface ServiceLogLine {
  stream: "stdout" | "stderr";
  line: string;
  ts?: string;
  taskId?: string;
  nodeId?: string;
}

/** Swarm, as the apps module uses it. */
export interface SwarmGateway {
  ensureNetwork(
    name: string,
    labels: Record<string, string>,
    encrypted: boolean,
  ): Promise<{ id: string; created: boolean }>;
  /** Removes a Capstan overlay network; false when it was not there. Refused while in use. */
  removeNetwork(name: string): Promise<boolean>;
  /** Makes sure a Swarm secret holds `data` under `name` (one name per secret version). */
  ensureSecret(
    name: string,
    labels: Record<string, string>,
    data: Uint8Array,
  ): Promise<{ id: string; created: boolean }>;
  /** Removes an organization's Swarm secrets no service refers to any more; answers their names. */
  pruneSecrets(orgId: string, keep: string[], minAgeS?: number): Promise<string[]>;
  services(label: string): Promise<SwarmService[]>;
  inspect(id: string): Promise<SwarmService>;
  create(spec: DockerServiceSpec): Promise<{ id: string }>;
  update(id: string, spec: DockerServiceSpec): Promise<void>;
  rollback(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  tasks(filters: { service?: string[]; node?: string[]; label?: string[] }): Promise<SwarmTask[]>;
  /** The manager's local image: its id and repo digests; undefined when it is not there. */
  image(ref: string): Promise<{ id: string; repo_digests: string[] } | undefined>;
  scale(id: string, replicas: number): Promise<void>;
  nodes(): Promise<SwarmNode[]>;
  updateNode(
    id: string,
    patch: {
      role?: "worker" | "manager";
      availability?: "active" | "pause" | "drain";
      labels?: Record<string, string>;
    },
  ): Promise<void>;
  removeNode(id: string, force: boolean): Promise<void>;
  /**
   * Log lines of a service's tasks; `cancel` stops following. At most `maxBuffered` batches wait
   * for a slow reader; beyond that the stream fails (the reader fell behind).
   */
  logs(
    id: string,
    opts: { tail: number; follow: boolean; maxBuffered?: number },
  ): AsyncIterable<ServiceLogLine[]> & { cancel(): void };
}

/** What calling an agent looks like (an AgentConnection). */
export interface AgentCaller {
  call<T>(op: string, params: unknown, timeoutMs?: number): Promise<T>;
  stream(
    op: string,
    params: unknown,
    maxBuffered?: number,
  ): AsyncIterable<unknown> & { cancel(): void };
}

/** A gateway over one agent connection (the manager's). */
export function agentGateway(conn: AgentCaller): SwarmGateway {
  return {
    ensureNetwork: (name, labels, encrypted) =>
      conn.call("swarm.network_ensure", { name, labels, encrypted }),
    removeNetwork: async (name) =>
      (await conn.call<{ removed: boolean }>("swarm.network_remove", { name })).removed,
    ensureSecret: (name, labels, data) =>
      conn.call("swarm.secret_ensure", { name, labels, data: base64(data) }),
    pruneSecrets: async (orgId, keep, minAgeS) =>
      (await conn.call<{ removed: string[] }>("swarm.secrets_prune", {
        org: orgId,
        keep,
        min_age_s: minAgeS,
      })).removed,
    services: (label) => conn.call("services.list", { label: [label] }),
    inspect: (id) => conn.call("service.inspect", { id }),
    create: (spec) => conn.call("service.create", { spec }),
    update: async (id, spec) => {
      await conn.call("service.update", { id, spec });
    },
    rollback: async (id) => {
      await conn.call("service.rollback", { id });
    },
    remove: async (id) => {
      await conn.call("service.remove", { id });
    },
    tasks: (filters) => conn.call("tasks.list", { filters }),
    scale: async (id, replicas) => {
      await conn.call("service.scale", { id, replicas });
    },
    nodes: () => conn.call("nodes.list", {}),
    updateNode: async (id, patch) => {
      await conn.call("node.update", { id, ...patch });
    },
    removeNode: async (id, force) => {
      await conn.call("node.remove", { id, force });
    },
    image: async (ref) => {
      try {
        return await conn.call("image.inspect", { ref });
      } catch (err) {
        if ((err as { status?: number }).status === 404) return undefined;
        throw err;
      }
    },
    logs: (id, { maxBuffered, ...opts }) =>
      conn.stream("service.logs", { id, ...opts }, maxBuffered) as
        & AsyncIterable<ServiceLogLine[]>
        & { cancel(): void },
  };
}

/** Makes sure an app's organization network and its own network exist; answers their names. */
export async function ensureAppNetworks(
  gw: SwarmGateway,
  org: { id: string },
  app: { id: string },
  encrypted: boolean,
): Promise<{ org: string; app: string }> {
  const nets = networkNames(org, app);
  await gw.ensureNetwork(nets.org, { [LABELS.org]: org.id }, encrypted);
  await gw.ensureNetwork(nets.app, { [LABELS.org]: org.id, [LABELS.app]: app.id }, encrypted);
  return nets;
}
