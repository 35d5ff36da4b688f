import {
  type CallOptions,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { CIDR_RE, driverName, IP_RE } from "./inputs.ts";
import { DockerInputError, networkName } from "./validate.ts";
import type { NetworkInspect } from "./types.ts";

/** Options for creating a network. */
export interface NetworkCreateSpec {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** Network calls. */
export interface NetworksApi {
  /** Networks, with their IPAM config. */
  listNetworks(opts?: { filters?: Filters } & CallOptions): Promise<NetworkInspect[]>;
  /** One network with its attached containers. */
  inspectNetwork(idOrName: string, opts?: CallOptions): Promise<NetworkInspect>;
  /** Creates a network; 409 when the name exists. */
  createNetwork(
    spec: NetworkCreateSpec,
    opts?: CallOptions,
  ): Promise<{ id: string; warning: string }>;
  /** Removes a network; 403/409 for system or in-use networks. */
  removeNetwork(idOrName: string, opts?: CallOptions): Promise<void>;
}

function cidr(value: string | undefined, field: string): string | undefined {
  if (value !== undefined && !CIDR_RE.test(value)) {
    throw new DockerInputError(field, `Invalid ${field} ${JSON.stringify(value)}: must be CIDR`);
  }
  return value;
}

/** The network calls over one transport. */
export function networksApi(t: EngineTransport): NetworksApi {
  return {
    listNetworks: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/networks",
        query: { filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    inspectNetwork: async (idOrName, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/networks/${enc(networkName(idOrName))}`,
        signal: opts.signal,
      }),
    async createNetwork(spec, opts = {}) {
      const name = networkName(spec.name, "name");
      const driver = driverName(spec.driver ?? "bridge");
      const subnet = cidr(spec.subnet, "subnet");
      const ipRange = cidr(spec.ipRange, "ipRange");
      if (spec.gateway !== undefined && !IP_RE.test(spec.gateway)) {
        throw new DockerInputError("gateway", `Invalid gateway ${JSON.stringify(spec.gateway)}`);
      }
      const ipamConfig = subnet || spec.gateway || ipRange
        ? [{ Subnet: subnet, Gateway: spec.gateway, IPRange: ipRange }]
        : [];
      const r = await t.json<{ Id: string; Warning?: string }>({
        method: "POST",
        path: "/networks/create",
        body: {
          Name: name,
          Driver: driver,
          // Without it the engine happily creates a second network with the same name.
          CheckDuplicate: true,
          Internal: spec.internal ?? false,
          Attachable: spec.attachable ?? false,
          IPAM: { Driver: "default", Config: ipamConfig },
          Labels: spec.labels ?? {},
          Options: spec.options ?? {},
        },
        signal: opts.signal,
      });
      return { id: r.Id, warning: r.Warning ?? "" };
    },
    removeNetwork: async (idOrName, opts = {}) =>
      await t.void({
        method: "DELETE",
        path: `/networks/${enc(networkName(idOrName))}`,
        signal: opts.signal,
      }),
  };
}
