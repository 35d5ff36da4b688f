import {
  type CallOptions,
  type DockerStream,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import {
  absolutePath,
  argv,
  envList,
  healthcheckBody,
  type HealthcheckSpec,
  port,
  positiveInt,
} from "./inputs.ts";
import { DockerInputError, imageRef, networkName, sinceValue, volumeName } from "./validate.ts";
import { labelMap, swarmId } from "./swarm.ts";
import { secretName } from "./secrets.ts";
import { type LogLine, logLines, MAX_LOG_LINE_BYTES } from "./streams.ts";
import type { ServiceSpecBody, SwarmService, SwarmTask, UpdateConfigBody } from "./swarm_types.ts";

/** Service names: Docker's rule, and short enough to be a DNS label. */
const SERVICE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const CONSTRAINT_RE =
  /^(?:node\.(?:id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]{1,128})|engine\.labels\.[A-Za-z0-9_.-]{1,128})\s*(?:==|!=)\s*[A-Za-z0-9_.:-]{1,253}$/;
const ALIAS_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const NS_PER_MS = 1e6;

/** How Swarm rolls an update (or a rollback) through a service's tasks. */
export interface UpdatePolicy {
  /** Tasks updated at once (0 = all at once). */
  parallelism?: number;
  delayMs?: number;
  failureAction?: "continue" | "pause" | "rollback";
  /** How long each updated task is watched for failure. */
  monitorMs?: number;
  maxFailureRatio?: number;
  order?: "stop-first" | "start-first";
}

/** A published port of a service. */
export interface ServicePortSpec {
  target: number;
  /** Omitted: Swarm picks one (ingress mode only). */
  published?: number;
  protocol?: "tcp" | "udp";
  mode?: "ingress" | "host";
}

/** What a Swarm service runs, in Capstan's words; `serviceBody` turns it into the engine's spec. */
export interface ServiceSpec {
  name: string;
  image: string;
  /** Labels of the service object (Capstan's `capstan.*` ownership labels live here). */
  labels?: Record<string, string>;
  /** Labels of each task's container. */
  containerLabels?: Record<string, string>;
  /** Replaces the image's entrypoint. */
  command?: string[];
  /** Replaces the image's command. */
  args?: string[];
  env?: Record<string, string>;
  /**
   * Swarm secrets mounted as files: `target` is an absolute path (or a name under
   * /run/secrets), owned by uid/gid with `mode`.
   */
  secrets?: {
    secretId: string;
    secretName: string;
    target: string;
    uid?: string;
    gid?: string;
    mode?: number;
  }[];
  workingDir?: string;
  user?: string;
  volumes?: { name: string; target: string; readOnly?: boolean }[];
  /** Host paths mounted into the tasks (a policy above decides who may). */
  binds?: { source: string; target: string; readOnly?: boolean }[];
  /** Linux capabilities added to the tasks' containers. */
  capAdd?: string[];
  healthcheck?: HealthcheckSpec;
  stopGracePeriodMs?: number;
  limits?: { nanoCpus?: number; memoryBytes?: number };
  reservations?: { nanoCpus?: number; memoryBytes?: number };
  restart?: {
    condition: "none" | "on-failure" | "any";
    delayMs?: number;
    maxAttempts?: number;
    windowMs?: number;
  };
  /** Placement constraints like `node.hostname==web-1` or `node.labels.disk==ssd`. */
  constraints?: string[];
  maxReplicasPerNode?: number;
  networks?: { target: string; aliases?: string[] }[];
  /** Replicated with this many tasks (default 1), unless `global`. */
  replicas?: number;
  global?: boolean;
  update?: UpdatePolicy;
  rollback?: UpdatePolicy;
  ports?: ServicePortSpec[];
  /**
   * How other services reach it: a virtual IP balanced by Swarm's routing mesh ("vip", the
   * default; needs IPVS in the kernel) or DNS round-robin over the tasks ("dnsrr").
   */
  endpointMode?: "vip" | "dnsrr";
  /** Bump to restart every task without a spec change (a rolling restart). */
  forceUpdate?: number;
}

/** Options for service logs. */
export interface ServiceLogsOptions extends CallOptions {
  follow?: boolean;
  tail?: number | "all";
  since?: number | string;
  timestamps?: boolean;
}

/** A service log line with the task and node it came from. */
export interface ServiceLogLine extends LogLine {
  taskId?: string;
  nodeId?: string;
}

/** Service and task calls (managers only). */
export interface ServicesApi {
  /** Services with running/desired task counts. */
  listServices(opts?: { filters?: Filters } & CallOptions): Promise<SwarmService[]>;
  /** One service by id or name. */
  inspectService(idOrName: string, opts?: CallOptions): Promise<SwarmService>;
  /** Creates a service; 409 when the name is taken. */
  createService(spec: ServiceSpec, opts?: CallOptions): Promise<{ id: string; warnings: string[] }>;
  /**
   * Replaces a service's spec at the version it was read at (a rolling update as its update
   * policy says), or with `rollbackFrom` (the current spec) asks Swarm to go back to the
   * previous one.
   */
  updateService(
    idOrName: string,
    version: number,
    spec: ServiceSpec | { rollbackFrom: ServiceSpecBody },
    opts?: CallOptions,
  ): Promise<{ warnings: string[] }>;
  /**
   * Writes a spec the engine gave back (from `inspectService`), changed in a few fields, at the
   * version it was read at: how scaling keeps everything else exactly as Swarm has it.
   */
  updateServiceRaw(
    idOrName: string,
    version: number,
    spec: ServiceSpecBody,
    opts?: CallOptions,
  ): Promise<void>;
  /** Removes a service and its tasks. */
  removeService(idOrName: string, opts?: CallOptions): Promise<void>;
  /** The log lines of all the service's tasks, each with its task and node. */
  serviceLogs(idOrName: string, opts?: ServiceLogsOptions): Promise<DockerStream<ServiceLogLine>>;
  /** Tasks, e.g. `{ service: [id], "desired-state": ["running"] }`. */
  listTasks(opts?: { filters?: Filters } & CallOptions): Promise<SwarmTask[]>;
}

function nonNegativeInt(n: unknown, field: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new DockerInputError(field, `Invalid ${field} ${String(n)}: must be a whole number ≥ 0`);
  }
  return n;
}

const ms = (v: number | undefined, field: string) =>
  v === undefined ? undefined : nonNegativeInt(v, field) * NS_PER_MS;

function updateBody(p: UpdatePolicy | undefined, field: string): UpdateConfigBody | undefined {
  if (!p) return undefined;
  if (p.failureAction && !["continue", "pause", "rollback"].includes(p.failureAction)) {
    throw new DockerInputError(`${field}.failureAction`, "Invalid failure action");
  }
  if (p.order && !["stop-first", "start-first"].includes(p.order)) {
    throw new DockerInputError(`${field}.order`, "Invalid order");
  }
  const ratio = p.maxFailureRatio;
  if (ratio !== undefined && !(typeof ratio === "number" && ratio >= 0 && ratio <= 1)) {
    throw new DockerInputError(`${field}.maxFailureRatio`, "Invalid maxFailureRatio: 0 to 1");
  }
  return {
    Parallelism: nonNegativeInt(p.parallelism ?? 1, `${field}.parallelism`),
    Delay: ms(p.delayMs, `${field}.delayMs`),
    FailureAction: p.failureAction,
    Monitor: ms(p.monitorMs, `${field}.monitorMs`),
    MaxFailureRatio: ratio,
    Order: p.order,
  };
}

function resources(r: { nanoCpus?: number; memoryBytes?: number } | undefined, field: string) {
  if (!r) return undefined;
  return {
    NanoCPUs: r.nanoCpus === undefined ? undefined : positiveInt(r.nanoCpus, `${field}.nanoCpus`),
    MemoryBytes: r.memoryBytes === undefined
      ? undefined
      : positiveInt(r.memoryBytes, `${field}.memoryBytes`),
  };
}

/** Maps a ServiceSpec onto the engine's service spec, validating everything the engine trusts. */
export function serviceBody(spec: ServiceSpec): ServiceSpecBody {
  if (typeof spec.name !== "string" || !SERVICE_NAME_RE.test(spec.name)) {
    throw new DockerInputError(
      "name",
      "Invalid name: must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 63 characters",
    );
  }
  if (spec.global && spec.replicas !== undefined) {
    throw new DockerInputError("replicas", "Invalid replicas: a global service has none");
  }
  const rp = spec.restart;
  if (rp && !["none", "on-failure", "any"].includes(rp.condition)) {
    throw new DockerInputError("restart.condition", "Invalid restart condition");
  }
  const constraints = (spec.constraints ?? []).map((c, i) => {
    if (typeof c !== "string" || !CONSTRAINT_RE.test(c)) {
      throw new DockerInputError(
        `constraints[${i}]`,
        "Invalid constraint: like node.hostname==web-1 or node.labels.disk==ssd",
      );
    }
    return c;
  });
  const ports = (spec.ports ?? []).map((p, i) => {
    const protocol = p.protocol ?? "tcp";
    const mode = p.mode ?? "ingress";
    if (!["tcp", "udp"].includes(protocol)) {
      throw new DockerInputError(`ports[${i}].protocol`, "Invalid protocol: tcp or udp");
    }
    if (!["ingress", "host"].includes(mode)) {
      throw new DockerInputError(`ports[${i}].mode`, "Invalid mode: ingress or host");
    }
    return {
      Protocol: protocol,
      TargetPort: port(p.target, `ports[${i}].target`, 1),
      PublishedPort: p.published === undefined
        ? undefined
        : port(p.published, `ports[${i}].published`, 1),
      PublishMode: mode,
    };
  });
  const endpointMode = spec.endpointMode ?? "vip";
  if (!["vip", "dnsrr"].includes(endpointMode)) {
    throw new DockerInputError("endpointMode", "Invalid endpoint mode: vip or dnsrr");
  }
  const ingress = ports.findIndex((p) => p.PublishMode === "ingress");
  if (endpointMode === "dnsrr" && ingress >= 0) {
    throw new DockerInputError(
      `ports[${ingress}].mode`,
      "Invalid mode: ingress ports need the routing mesh (endpoint mode vip); use host mode",
    );
  }
  return {
    Name: spec.name,
    Labels: labelMap(spec.labels),
    TaskTemplate: {
      ContainerSpec: {
        Image: imageRef(spec.image, "image"),
        Labels: labelMap(spec.containerLabels, "containerLabels"),
        Command: spec.command === undefined ? undefined : argv(spec.command, "command"),
        Args: spec.args === undefined ? undefined : argv(spec.args, "args"),
        Env: envList(spec.env),
        Secrets: spec.secrets?.length
          ? spec.secrets.map((r, i) => {
            const at = (f: string) => `secrets[${i}].${f}`;
            if (!/^\d{1,10}$/.test(r.uid ?? "0") || !/^\d{1,10}$/.test(r.gid ?? "0")) {
              throw new DockerInputError(at("uid"), "Invalid uid or gid: must be numeric");
            }
            const mode = r.mode ?? 0o400;
            if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
              throw new DockerInputError(at("mode"), "Invalid mode: 0 to 0777");
            }
            return {
              SecretID: swarmId(r.secretId, at("secretId")),
              SecretName: secretName(r.secretName),
              File: {
                Name: r.target.startsWith("/")
                  ? absolutePath(r.target, at("target"))
                  : secretName(r.target),
                UID: r.uid ?? "0",
                GID: r.gid ?? "0",
                Mode: mode,
              },
            };
          })
          : undefined,
        Dir: spec.workingDir === undefined
          ? undefined
          : absolutePath(spec.workingDir, "workingDir"),
        User: spec.user,
        Mounts: [
          ...(spec.volumes ?? []).map((v, i) => ({
            Type: "volume" as const,
            Source: volumeName(v.name, `volumes[${i}].name`),
            Target: absolutePath(v.target, `volumes[${i}].target`),
            ReadOnly: v.readOnly ?? false,
          })),
          ...(spec.binds ?? []).map((b, i) => ({
            Type: "bind" as const,
            Source: absolutePath(b.source, `binds[${i}].source`),
            Target: absolutePath(b.target, `binds[${i}].target`),
            ReadOnly: b.readOnly ?? false,
          })),
        ],
        CapabilityAdd: spec.capAdd?.map((c, i) => {
          if (typeof c !== "string" || !/^(?:CAP_)?[A-Z_]{2,32}$/.test(c)) {
            throw new DockerInputError(`capAdd[${i}]`, "Invalid capability");
          }
          return c;
        }),
        StopGracePeriod: ms(spec.stopGracePeriodMs, "stopGracePeriodMs"),
        Healthcheck: healthcheckBody(spec.healthcheck),
      },
      Resources: spec.limits || spec.reservations
        ? {
          Limits: resources(spec.limits, "limits"),
          Reservations: resources(spec.reservations, "reservations"),
        }
        : undefined,
      RestartPolicy: rp
        ? {
          Condition: rp.condition,
          Delay: ms(rp.delayMs, "restart.delayMs"),
          MaxAttempts: rp.maxAttempts === undefined
            ? undefined
            : nonNegativeInt(rp.maxAttempts, "restart.maxAttempts"),
          Window: ms(rp.windowMs, "restart.windowMs"),
        }
        : undefined,
      // Always an object, even without constraints: Docker 20.10's swarmkit dereferences the
      // service's placement when only the placement changed (removing the last constraint of
      // a running service), and a nil one crashes the engine in a loop (nodeMatches).
      Placement: {
        Constraints: constraints,
        MaxReplicas: spec.maxReplicasPerNode === undefined
          ? undefined
          : nonNegativeInt(spec.maxReplicasPerNode, "maxReplicasPerNode"),
      },
      Networks: spec.networks?.map((n, i) => ({
        Target: networkName(n.target, `networks[${i}].target`),
        Aliases: n.aliases?.map((a) => {
          if (typeof a !== "string" || !ALIAS_RE.test(a)) {
            throw new DockerInputError(`networks[${i}].aliases`, "Invalid alias");
          }
          return a;
        }),
      })),
      ForceUpdate: spec.forceUpdate === undefined
        ? undefined
        : nonNegativeInt(spec.forceUpdate, "forceUpdate"),
    },
    Mode: spec.global
      ? { Global: {} }
      : { Replicated: { Replicas: nonNegativeInt(spec.replicas ?? 1, "replicas") } },
    UpdateConfig: updateBody(spec.update, "update"),
    RollbackConfig: updateBody(spec.rollback, "rollback"),
    EndpointSpec: ports.length || spec.endpointMode
      ? { Mode: endpointMode, Ports: ports }
      : undefined,
  };
}

// `details=true` prefixes each line with "com.docker.swarm.node.id=…,…,com.docker.swarm.task.id=… ".
const DETAILS_RE = /^((?:[a-z.]+=[^, ]*,?)+) /;

/** Splits the details prefix of a service log line into its task and node. */
export function serviceLogDetails(line: LogLine): ServiceLogLine {
  const m = DETAILS_RE.exec(line.line);
  if (!m) return line;
  const out: ServiceLogLine = { ...line, line: line.line.slice(m[0].length) };
  for (const pair of m[1].split(",")) {
    const [k, v] = pair.split("=");
    if (k === "com.docker.swarm.task.id") out.taskId = v;
    if (k === "com.docker.swarm.node.id") out.nodeId = v;
  }
  return out;
}

const serviceRef = (v: string) => swarmId(v, "service", SERVICE_NAME_RE);

/** The service and task calls over one transport. */
export function servicesApi(t: EngineTransport): ServicesApi {
  return {
    listServices: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/services",
        query: { status: true, filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    inspectService: async (idOrName, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/services/${enc(serviceRef(idOrName))}`,
        signal: opts.signal,
      }),
    async createService(spec, opts = {}) {
      const body = serviceBody(spec);
      const r = await t.json<{ ID: string; Warning?: string; Warnings?: string[] | null }>({
        method: "POST",
        path: "/services/create",
        body,
        signal: opts.signal,
      });
      return { id: r.ID, warnings: r.Warnings ?? (r.Warning ? [r.Warning] : []) };
    },
    async updateService(idOrName, version, spec, opts = {}) {
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new DockerInputError("version", "Invalid service version");
      }
      const r = await t.json<{ Warnings?: string[] | null }>({
        method: "POST",
        path: `/services/${enc(serviceRef(idOrName))}/update`,
        query: { version, rollback: "rollbackFrom" in spec ? "previous" : undefined },
        // A server-side rollback ignores the body, but the engine still wants a spec.
        body: "rollbackFrom" in spec ? spec.rollbackFrom : serviceBody(spec),
        signal: opts.signal,
      });
      return { warnings: r?.Warnings ?? [] };
    },
    async updateServiceRaw(idOrName, version, spec, opts = {}) {
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new DockerInputError("version", "Invalid service version");
      }
      await t.json({
        method: "POST",
        path: `/services/${enc(serviceRef(idOrName))}/update`,
        query: { version },
        body: spec,
        signal: opts.signal,
      });
    },
    removeService: async (idOrName, opts = {}) =>
      await t.void({
        method: "DELETE",
        path: `/services/${enc(serviceRef(idOrName))}`,
        signal: opts.signal,
      }),
    async serviceLogs(idOrName, opts = {}) {
      const tail = opts.tail === undefined || opts.tail === "all" ? "all" : opts.tail;
      if (tail !== "all" && (!Number.isSafeInteger(tail) || tail < 0)) {
        throw new DockerInputError(
          "tail",
          `Invalid tail ${String(tail)}: must be a count or "all"`,
        );
      }
      const timestamps = opts.timestamps ?? false;
      return await t.stream(
        {
          method: "GET",
          path: `/services/${enc(serviceRef(idOrName))}/logs`,
          query: {
            stdout: true,
            stderr: true,
            details: true,
            follow: opts.follow ?? false,
            timestamps,
            tail,
            since: opts.since === undefined ? undefined : sinceValue(opts.since),
          },
          signal: opts.signal,
        },
        async function* (chunks) {
          // Services run without a TTY here, so their logs are multiplexed like a container's.
          const lines = logLines(chunks, {
            tty: false,
            timestamps,
            maxLineBytes: MAX_LOG_LINE_BYTES,
          });
          for await (const l of lines) yield serviceLogDetails(l);
        },
      );
    },
    listTasks: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/tasks",
        query: { filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
  };
}
