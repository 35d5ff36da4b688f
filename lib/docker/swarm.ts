import {
  type CallOptions,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { DockerInputError } from "./validate.ts";
import type { NodeSpec, SwarmInspect, SwarmNode } from "./swarm_types.ts";

// An advertise/listen address: an IP (v4, or v6 in brackets) or an interface name, optional port.
const ADDR_RE =
  /^(?:[0-9.]{7,15}|\[[0-9a-fA-F:]{2,45}\]|[a-zA-Z][a-zA-Z0-9_.-]{0,31})(?::[0-9]{1,5})?$/;
const JOIN_TOKEN_RE = /^SWMTKN-1-[a-z0-9]{20,64}-[a-z0-9]{20,64}$/;
/** Swarm object ids (nodes, services, tasks) are 25 lowercase letters and digits. */
const SWARM_ID_RE = /^[a-z0-9]{25}$/;
const LABEL_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}$/;

/** Validates a swarm object id (node, service, task) or, where allowed, a name. */
export function swarmId(value: unknown, field = "id", nameRe?: RegExp): string {
  if (typeof value !== "string" || !(SWARM_ID_RE.test(value) || nameRe?.test(value))) {
    throw new DockerInputError(field, `Invalid ${field}: must be a swarm id`);
  }
  return value;
}

/** Validates an advertise or listen address ("10.0.0.5", "eth0:2377", "[::1]:2377"). */
export function swarmAddr(value: unknown, field: string): string {
  if (typeof value !== "string" || !ADDR_RE.test(value)) {
    throw new DockerInputError(
      field,
      `Invalid ${field} ${
        JSON.stringify(String(value).slice(0, 40))
      }: must be an IP address or interface name, with an optional port`,
    );
  }
  return value;
}

/** Validates labels: keys by Docker's usual rule, values free text without NUL, bounded. */
export function labelMap(
  labels: Record<string, string> | undefined,
  field = "labels",
): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(labels ?? {});
  if (entries.length > 128) throw new DockerInputError(field, `Too many ${field}: at most 128`);
  for (const [k, v] of entries) {
    if (!LABEL_KEY_RE.test(k)) {
      throw new DockerInputError(field, `Invalid label name ${JSON.stringify(k.slice(0, 40))}`);
    }
    if (typeof v !== "string" || v.includes("\0") || v.length > 4096) {
      throw new DockerInputError(field, `Invalid value for label ${k}`);
    }
    out[k] = v;
  }
  return out;
}

/** Options for `swarm init`. */
export interface SwarmInitSpec {
  advertiseAddr: string;
  /** Default "0.0.0.0:2377". */
  listenAddr?: string;
}

/** Options for `swarm join`. */
export interface SwarmJoinSpec {
  remoteAddrs: string[];
  joinToken: string;
  advertiseAddr?: string;
  listenAddr?: string;
}

/** Swarm membership and node calls; inspect, tokens and node changes need a manager. */
export interface SwarmApi {
  /** The swarm (managers only; 503 on a worker or outside a swarm). */
  swarmInspect(opts?: CallOptions): Promise<SwarmInspect>;
  /** Makes this engine the first manager of a new swarm; resolves to its node id. */
  swarmInit(spec: SwarmInitSpec, opts?: CallOptions): Promise<string>;
  /** Joins an existing swarm with a worker or manager token. */
  swarmJoin(spec: SwarmJoinSpec, opts?: CallOptions): Promise<void>;
  /** Leaves the swarm; a manager must `force`. */
  swarmLeave(opts?: { force?: boolean } & CallOptions): Promise<void>;
  /** The swarm's nodes. */
  listNodes(opts?: { filters?: Filters } & CallOptions): Promise<SwarmNode[]>;
  /** One node by id or hostname. */
  inspectNode(id: string, opts?: CallOptions): Promise<SwarmNode>;
  /** Replaces a node's spec (role, availability, labels) at the version it was read at. */
  updateNode(id: string, version: number, spec: NodeSpec, opts?: CallOptions): Promise<void>;
  /** Removes a node from the swarm; a node that is not down needs `force`. */
  removeNode(id: string, opts?: { force?: boolean } & CallOptions): Promise<void>;
}

const HOSTNAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

/** The swarm calls over one transport. */
export function swarmApi(t: EngineTransport): SwarmApi {
  return {
    swarmInspect: async (opts = {}) =>
      await t.json({ method: "GET", path: "/swarm", signal: opts.signal }),
    swarmInit: async (spec, opts = {}) =>
      await t.json<string>({
        method: "POST",
        path: "/swarm/init",
        body: {
          ListenAddr: swarmAddr(spec.listenAddr ?? "0.0.0.0:2377", "listenAddr"),
          AdvertiseAddr: swarmAddr(spec.advertiseAddr, "advertiseAddr"),
          ForceNewCluster: false,
          Spec: {},
        },
        signal: opts.signal,
        // Init creates the raft store and certificates; it takes a few seconds on a busy machine.
        extraMs: 30_000,
      }),
    async swarmJoin(spec, opts = {}) {
      if (typeof spec.joinToken !== "string" || !JOIN_TOKEN_RE.test(spec.joinToken)) {
        // The token itself is a secret: never echoed.
        throw new DockerInputError("joinToken", "Invalid join token");
      }
      if (!Array.isArray(spec.remoteAddrs) || spec.remoteAddrs.length === 0) {
        throw new DockerInputError("remoteAddrs", "Invalid remoteAddrs: at least one manager");
      }
      await t.void({
        method: "POST",
        path: "/swarm/join",
        body: {
          ListenAddr: swarmAddr(spec.listenAddr ?? "0.0.0.0:2377", "listenAddr"),
          AdvertiseAddr: spec.advertiseAddr === undefined
            ? undefined
            : swarmAddr(spec.advertiseAddr, "advertiseAddr"),
          RemoteAddrs: spec.remoteAddrs.map((a, i) => swarmAddr(a, `remoteAddrs[${i}]`)),
          JoinToken: spec.joinToken,
        },
        signal: opts.signal,
        extraMs: 30_000,
      });
    },
    swarmLeave: async (opts = {}) =>
      await t.void({
        method: "POST",
        path: "/swarm/leave",
        query: { force: opts.force },
        signal: opts.signal,
        extraMs: 30_000,
      }),
    listNodes: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/nodes",
        query: { filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    inspectNode: async (id, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/nodes/${enc(swarmId(id, "node", HOSTNAME_RE))}`,
        signal: opts.signal,
      }),
    async updateNode(id, version, spec, opts = {}) {
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new DockerInputError("version", "Invalid node version");
      }
      if (!["worker", "manager"].includes(spec.Role)) {
        throw new DockerInputError("role", `Invalid role ${JSON.stringify(spec.Role)}`);
      }
      if (!["active", "pause", "drain"].includes(spec.Availability)) {
        throw new DockerInputError(
          "availability",
          `Invalid availability ${JSON.stringify(spec.Availability)}`,
        );
      }
      await t.void({
        method: "POST",
        path: `/nodes/${enc(swarmId(id, "node"))}/update`,
        query: { version },
        body: {
          Name: spec.Name,
          Role: spec.Role,
          Availability: spec.Availability,
          Labels: labelMap(spec.Labels),
        },
        signal: opts.signal,
      });
    },
    removeNode: async (id, opts = {}) =>
      await t.void({
        method: "DELETE",
        path: `/nodes/${enc(swarmId(id, "node"))}`,
        query: { force: opts.force },
        signal: opts.signal,
      }),
  };
}
