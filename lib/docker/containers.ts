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
  envList,
  graceSeconds,
  healthcheckBody,
  type HealthcheckSpec,
  IP_RE,
  port,
  positiveInt,
} from "./inputs.ts";
import {
  containerName,
  containerRef,
  DockerInputError,
  imageRef,
  signalName,
  sinceValue,
  volumeName,
} from "./validate.ts";
import { jsonLines, type LogLine, logLines, MAX_LOG_LINE_BYTES } from "./streams.ts";
import type { DockerStats } from "./stats.ts";
import type { ContainerInspect, ContainerSummary, RestartPolicyName } from "./types.ts";

/** A port to expose; a binding on the host is made when `hostPort` is set (0 = any free port). */
export interface PortSpec {
  containerPort: number;
  protocol?: "tcp" | "udp" | "sctp";
  hostPort?: number;
  hostIp?: string;
}

/** A named volume mounted into the container. */
export interface VolumeMountSpec {
  name: string;
  target: string;
  readOnly?: boolean;
}

/** A host device passed through (policy above decides whether it is allowed). */
export interface DeviceSpec {
  pathOnHost: string;
  pathInContainer?: string;
  cgroupPermissions?: string;
}

/** What to create. Fields after `memoryBytes` are passed through for a policy layer to judge. */
export interface ContainerSpec {
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  ports?: PortSpec[];
  volumes?: VolumeMountSpec[];
  restartPolicy?: { name: RestartPolicyName; maximumRetryCount?: number };
  labels?: Record<string, string>;
  /** CPU limit in units of 1e-9 CPUs (1.5 CPUs = 1_500_000_000). */
  nanoCpus?: number;
  memoryBytes?: number;
  privileged?: boolean;
  networkMode?: string;
  pidMode?: string;
  devices?: DeviceSpec[];
  capAdd?: string[];
  /** Host bind mounts in Docker's `src:dst[:opts]` form. */
  binds?: string[];
  /** The image's HEALTHCHECK, replaced: `test` in Docker's form (["CMD", argv…] or ["NONE"]). */
  healthcheck?: HealthcheckSpec;
}

/** Options for log reading. */
export interface LogsOptions extends CallOptions {
  follow?: boolean;
  /** Lines from the end to start with; "all" (default) for everything. */
  tail?: number | "all";
  timestamps?: boolean;
  /** Unix seconds (fractions allowed) or a "seconds.nanos" string. */
  since?: number | string;
  stdout?: boolean;
  stderr?: boolean;
  /** Skip the inspect call when the caller already knows whether the container has a TTY. */
  tty?: boolean;
  maxLineBytes?: number;
}

/** Options for stats. */
export interface StatsOptions extends CallOptions {
  /** true (default): a sample about every second; false: one sample without the priming wait. */
  stream?: boolean;
}

/** Container calls: lifecycle, logs and stats. */
export interface ContainersApi {
  /** Containers, running only unless `all`. */
  listContainers(
    opts?: { all?: boolean; filters?: Filters; size?: boolean } & CallOptions,
  ): Promise<ContainerSummary[]>;
  /** Full container state; 404 when it does not exist. */
  inspectContainer(id: string, opts?: CallOptions): Promise<ContainerInspect>;
  /** Creates (does not start) a container; 409 when the name is taken. */
  createContainer(
    name: string,
    spec: ContainerSpec,
    opts?: CallOptions,
  ): Promise<{ id: string; warnings: string[] }>;
  /** Starts a container; already running is not an error. */
  startContainer(id: string, opts?: CallOptions): Promise<void>;
  /** SIGTERM, then SIGKILL after `t` seconds; already stopped is not an error. */
  stopContainer(id: string, opts?: { t?: number } & CallOptions): Promise<void>;
  /** Stops (with grace `t`) and starts again. */
  restartContainer(id: string, opts?: { t?: number } & CallOptions): Promise<void>;
  /** Sends a signal (default SIGKILL); 409 when not running. */
  killContainer(id: string, signal?: string, opts?: CallOptions): Promise<void>;
  /** Removes a container; `force` kills it first, `v` drops its anonymous volumes. */
  removeContainer(
    id: string,
    opts?: { force?: boolean; v?: boolean } & CallOptions,
  ): Promise<void>;
  /** Log lines, demultiplexed into stdout/stderr; `follow` keeps the stream open. */
  containerLogs(id: string, opts?: LogsOptions): Promise<DockerStream<LogLine>>;
  /** Stats samples: about one a second, or a single one-shot sample with `stream: false`. */
  containerStats(id: string, opts?: StatsOptions): Promise<DockerStream<DockerStats>>;
  /** One one-shot stats sample (the engine answers on its next 1 s collection tick). */
  containerStatsOnce(id: string, opts?: CallOptions): Promise<DockerStats>;
}

/** Maps the camelCase spec onto the engine's create body, validating what the engine trusts. */
function createBody(spec: ContainerSpec): Record<string, unknown> {
  const image = imageRef(spec.image, "image");
  const env = envList(spec.env);
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const [i, p] of (spec.ports ?? []).entries()) {
    const proto = p.protocol ?? "tcp";
    if (!["tcp", "udp", "sctp"].includes(proto)) {
      throw new DockerInputError(`ports[${i}].protocol`, `Invalid protocol ${String(proto)}`);
    }
    const key = `${port(p.containerPort, `ports[${i}].containerPort`, 1)}/${proto}`;
    exposed[key] = {};
    if (p.hostPort !== undefined) {
      const hostIp = p.hostIp ?? "";
      if (hostIp !== "" && !IP_RE.test(hostIp)) {
        throw new DockerInputError(
          `ports[${i}].hostIp`,
          `Invalid hostIp ${JSON.stringify(hostIp)}`,
        );
      }
      const hostPort = port(p.hostPort, `ports[${i}].hostPort`, 0);
      (bindings[key] ??= []).push({
        HostIp: hostIp,
        HostPort: hostPort === 0 ? "" : String(hostPort),
      });
    }
  }
  const mounts = (spec.volumes ?? []).map((v, i) => ({
    Type: "volume",
    Source: volumeName(v.name, `volumes[${i}].name`),
    Target: absolutePath(v.target, `volumes[${i}].target`),
    ReadOnly: v.readOnly ?? false,
  }));
  const rp = spec.restartPolicy;
  if (rp && !["", "no", "always", "unless-stopped", "on-failure"].includes(rp.name)) {
    throw new DockerInputError("restartPolicy", `Invalid restart policy ${String(rp.name)}`);
  }
  const hostConfig: Record<string, unknown> = {
    PortBindings: bindings,
    Mounts: mounts,
    RestartPolicy: rp
      ? {
        Name: rp.name,
        MaximumRetryCount: rp.name === "on-failure" ? rp.maximumRetryCount ?? 0 : 0,
      }
      : undefined,
    NanoCpus: spec.nanoCpus === undefined ? undefined : positiveInt(spec.nanoCpus, "nanoCpus"),
    Memory: spec.memoryBytes === undefined
      ? undefined
      : positiveInt(spec.memoryBytes, "memoryBytes"),
    Privileged: spec.privileged,
    NetworkMode: spec.networkMode,
    PidMode: spec.pidMode,
    Devices: spec.devices?.map((d) => ({
      PathOnHost: d.pathOnHost,
      PathInContainer: d.pathInContainer ?? d.pathOnHost,
      CgroupPermissions: d.cgroupPermissions ?? "rwm",
    })),
    CapAdd: spec.capAdd,
    Binds: spec.binds,
  };
  return {
    Image: image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: env,
    WorkingDir: spec.workingDir,
    User: spec.user,
    Hostname: spec.hostname,
    Tty: spec.tty ?? false,
    Labels: spec.labels ?? {},
    ExposedPorts: exposed,
    Healthcheck: healthcheckBody(spec.healthcheck),
    HostConfig: hostConfig,
  };
}

/** A lifecycle call (`start`, `stop`, …) on one container. */
async function lifecycle(
  t: EngineTransport,
  id: string,
  action: string,
  query: Record<string, string | number | undefined>,
  opts: CallOptions & { extraMs?: number },
): Promise<void> {
  return await t.void({
    method: "POST",
    path: `/containers/${enc(containerRef(id))}/${action}`,
    query,
    signal: opts.signal,
    extraMs: opts.extraMs,
  });
}

/** The container calls over one transport. */
export function containersApi(t: EngineTransport): ContainersApi {
  const inspectContainer = async (id: string, opts: CallOptions = {}): Promise<ContainerInspect> =>
    await t.json({
      method: "GET",
      path: `/containers/${enc(containerRef(id))}/json`,
      signal: opts.signal,
    });
  // stop and restart wait up to `t` seconds before killing, so their calls get that much longer.
  const graceful =
    (action: string) => async (id: string, opts: { t?: number } & CallOptions = {}) => {
      const t_ = opts.t === undefined ? undefined : graceSeconds(opts.t);
      return await lifecycle(t, id, action, { t: t_ }, { ...opts, extraMs: (t_ ?? 10) * 1000 });
    };
  return {
    listContainers: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/containers/json",
        query: { all: opts.all, size: opts.size, filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    inspectContainer,
    async createContainer(name, spec, opts = {}) {
      const n = containerName(name);
      const body = createBody(spec);
      const r = await t.json<{ Id: string; Warnings: string[] | null }>({
        method: "POST",
        path: "/containers/create",
        query: { name: n },
        body,
        signal: opts.signal,
      });
      return { id: r.Id, warnings: r.Warnings ?? [] };
    },
    startContainer: async (id, opts = {}) => await lifecycle(t, id, "start", {}, opts),
    stopContainer: graceful("stop"),
    restartContainer: graceful("restart"),
    killContainer: async (id, signal = "SIGKILL", opts = {}) => {
      containerRef(id);
      return await lifecycle(t, id, "kill", { signal: signalName(signal) }, opts);
    },
    removeContainer: async (id, opts = {}) =>
      await t.void({
        method: "DELETE",
        path: `/containers/${enc(containerRef(id))}`,
        query: { force: opts.force, v: opts.v },
        signal: opts.signal,
      }),
    async containerLogs(id, opts = {}) {
      const ref = containerRef(id);
      const tail = opts.tail === undefined || opts.tail === "all" ? "all" : opts.tail;
      if (tail !== "all" && (!Number.isSafeInteger(tail) || tail < 0)) {
        throw new DockerInputError(
          "tail",
          `Invalid tail ${String(tail)}: must be a count or "all"`,
        );
      }
      const since = opts.since === undefined ? undefined : sinceValue(opts.since);
      const maxLineBytes = opts.maxLineBytes ?? MAX_LOG_LINE_BYTES;
      // Without a TTY the engine multiplexes stdout/stderr in frames; with one it sends raw bytes.
      const tty = opts.tty ?? (await inspectContainer(ref, { signal: opts.signal })).Config.Tty;
      const timestamps = opts.timestamps ?? false;
      return await t.stream(
        {
          method: "GET",
          path: `/containers/${enc(ref)}/logs`,
          query: {
            stdout: opts.stdout ?? true,
            stderr: opts.stderr ?? true,
            follow: opts.follow ?? false,
            timestamps,
            tail,
            since,
          },
          signal: opts.signal,
        },
        (chunks) => logLines(chunks, { tty, timestamps, maxLineBytes }),
      );
    },
    containerStats: async (id, opts = {}) => {
      const stream = opts.stream ?? true;
      return await t.stream(
        {
          method: "GET",
          path: `/containers/${enc(containerRef(id))}/stats`,
          query: stream ? { stream: true } : { stream: false, "one-shot": true },
          signal: opts.signal,
        },
        (chunks) => jsonLines<DockerStats>(chunks),
      );
    },
    containerStatsOnce: async (id, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/containers/${enc(containerRef(id))}/stats`,
        query: { stream: false, "one-shot": true },
        signal: opts.signal,
      }),
  };
}
