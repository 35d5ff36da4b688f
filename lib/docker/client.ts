/**
 * A typed client for the Docker Engine API v1.41 over its unix socket.
 *
 * It speaks the API directly with `fetch` and a unix-socket `Deno.HttpClient` (no docker CLI,
 * no shell). Every name that goes into a path is validated against an allowlist first and then
 * URL-encoded; engine errors become `DockerError` with Docker's own message; every request has a
 * timeout, and streams end when the caller's AbortSignal fires or the consumer stops iterating,
 * which closes the connection so the engine stops producing.
 */

import {
  containerName,
  containerRef,
  DockerInputError,
  imageRef,
  networkName,
  signalName,
  sinceValue,
  splitImageRef,
  volumeName,
} from "./validate.ts";
import {
  type Frame,
  frames,
  jsonLines,
  type LogLine,
  logLines,
  MAX_LOG_LINE_BYTES,
} from "./streams.ts";
import type { DockerStats } from "./stats.ts";
import type {
  ContainerInspect,
  ContainerSummary,
  DockerEvent,
  DockerInfo,
  DockerVersion,
  ExecInspect,
  ImageDeleteItem,
  ImageInspect,
  ImagePruneResult,
  ImageSummary,
  NetworkInspect,
  PullProgress,
  RestartPolicyName,
  SystemDf,
  Volume,
} from "./types.ts";

export type * from "./types.ts";
export type { DockerStats } from "./stats.ts";
export type { Frame, LogLine, StreamName } from "./streams.ts";
export { DockerInputError } from "./validate.ts";

/** The API version this client speaks; the engine installed here is 20.10 (API 1.41). */
export const DOCKER_API_VERSION = "1.41";
/** Default socket of a local engine. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** An error answered by the engine (or 503/504 when it could not be reached in time). */
export class DockerError extends Error {
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DockerError";
    this.status = status;
  }
}

/** The fetch the client needs; injectable so tests can observe requests without an engine. */
export type FetchLike = (
  url: string,
  init: RequestInit & { client?: Deno.HttpClient },
) => Promise<Response>;

/** Options for {@link createDockerClient}. */
export interface DockerClientOptions {
  socketPath?: string;
  /** Per-request limit for non-streaming calls and for a stream's response headers. */
  timeoutMs?: number;
  /** Override the transport (tests). When set, no socket client is created. */
  fetch?: FetchLike;
}

/** Per-call options shared by every method. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Engine filters, e.g. `{ label: ["capstan.test=1"], status: ["running"] }`. */
export type Filters = Record<string, string[]>;

/** A streamed response: iterate it, and close it (or abort its signal) to drop the connection. */
export interface DockerStream<T> extends AsyncIterable<T> {
  /** Stops the stream and closes its connection; safe to call more than once. */
  close(): Promise<void>;
}

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

/** A container health check as the engine runs it; durations in milliseconds. */
export interface HealthcheckSpec {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

/** A command to run inside a running container (exec); an argument array, never a shell line. */
export interface ExecSpec {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
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

/** Options for the event stream. */
export interface EventsOptions extends CallOptions {
  since?: number | string;
  until?: number | string;
  filters?: Filters;
}

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

/** Options for creating a volume. */
export interface VolumeCreateSpec {
  name: string;
  driver?: string;
  labels?: Record<string, string>;
  driverOpts?: Record<string, string>;
}

/** The Engine API operations Capstan uses. */
export interface DockerClient {
  readonly socketPath: string;
  /** Checks the engine answers ("OK"). */
  ping(opts?: CallOptions): Promise<string>;
  /** Engine and API versions. */
  version(opts?: CallOptions): Promise<DockerVersion>;
  /** Host facts: CPUs, memory, OS, storage driver, counts. */
  info(opts?: CallOptions): Promise<DockerInfo>;
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
  /** Local images. */
  listImages(opts?: { all?: boolean; filters?: Filters } & CallOptions): Promise<ImageSummary[]>;
  /** One image by reference or id. */
  inspectImage(ref: string, opts?: CallOptions): Promise<ImageInspect>;
  /** Pulls an image, reporting progress lines; a failure in the stream is thrown. */
  pullImage(
    ref: string,
    onProgress?: (p: PullProgress) => void,
    opts?: CallOptions,
  ): Promise<void>;
  /** Untags/deletes an image; 409 while a container uses it unless `force`. */
  removeImage(
    ref: string,
    opts?: { force?: boolean; noprune?: boolean } & CallOptions,
  ): Promise<ImageDeleteItem[]>;
  /** Deletes dangling images (optionally narrowed by filters). */
  pruneImages(opts?: { dangling?: boolean; filters?: Filters } & CallOptions): Promise<
    ImagePruneResult
  >;
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
  /** Volumes (without sizes; see systemDf). */
  listVolumes(opts?: { filters?: Filters } & CallOptions): Promise<Volume[]>;
  /** One volume. */
  inspectVolume(name: string, opts?: CallOptions): Promise<Volume>;
  /** Creates a volume (returns the existing one if the name is taken, as Docker does). */
  createVolume(spec: VolumeCreateSpec, opts?: CallOptions): Promise<Volume>;
  /** Removes a volume; 409 while a container uses it. */
  removeVolume(name: string, opts?: { force?: boolean } & CallOptions): Promise<void>;
  /** Disk usage, including each volume's size and reference count. */
  systemDf(opts?: CallOptions): Promise<SystemDf>;
  /** Log lines, demultiplexed into stdout/stderr; `follow` keeps the stream open. */
  containerLogs(id: string, opts?: LogsOptions): Promise<DockerStream<LogLine>>;
  /** Stats samples: about one a second, or a single one-shot sample with `stream: false`. */
  containerStats(id: string, opts?: StatsOptions): Promise<DockerStream<DockerStats>>;
  /** One one-shot stats sample (the engine answers on its next 1 s collection tick). */
  containerStatsOnce(id: string, opts?: CallOptions): Promise<DockerStats>;
  /** Sets up a command in a running container (not started); 409 when it is not running. */
  execCreate(id: string, spec: ExecSpec, opts?: CallOptions): Promise<{ id: string }>;
  /**
   * Starts an exec instance and streams its output as demultiplexed frame pieces until the
   * command exits; closing the stream (or the signal) drops the connection, not the command.
   */
  execStart(execId: string, opts?: CallOptions): Promise<DockerStream<Frame>>;
  /** An exec instance's state and exit code. */
  execInspect(execId: string, opts?: CallOptions): Promise<ExecInspect>;
  /** Engine events as they happen (from `since` when reconnecting). */
  events(opts?: EventsOptions): Promise<DockerStream<DockerEvent>>;
  /** Releases the socket connection pool. */
  close(): void;
}

/** Creates a client for the engine at `socketPath` (default /var/run/docker.sock). */
export function createDockerClient(opts: DockerClientOptions = {}): DockerClient {
  return new EngineClient(opts);
}

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Extra time on top of the client timeout (stop waits `t` seconds before killing). */
  extraMs?: number;
}

const ENV_KEY_RE = /^[^=\0]+$/;
const IP_RE = /^[0-9a-fA-F.:]{2,45}$/;
const CIDR_RE = /^[0-9a-fA-F.:]{2,45}\/[0-9]{1,3}$/;
const DRIVER_RE = /^[a-zA-Z0-9][a-zA-Z0-9_./:-]{0,127}$/;
const EXEC_ID_RE = /^[a-f0-9]{64}$/;

function execId(id: unknown): string {
  if (typeof id !== "string" || !EXEC_ID_RE.test(id)) {
    throw new DockerInputError("execId", "Invalid exec id: must be 64 hex characters");
  }
  return id;
}

/** Docker's `KEY=value` environment list, validated. */
function envList(env: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    if (!ENV_KEY_RE.test(k)) {
      throw new DockerInputError("env", `Invalid env name ${JSON.stringify(k)}`);
    }
    if (typeof v !== "string" || v.includes("\0")) {
      throw new DockerInputError("env", `Invalid value for env ${k}`);
    }
    out.push(`${k}=${v}`);
  }
  return out;
}

/** An argument array for the engine: a shell line (a plain string) is refused. */
function argv(cmd: unknown, field: string): string[] {
  if (
    !Array.isArray(cmd) || cmd.length === 0 || cmd.length > 256 ||
    !cmd.every((a) => typeof a === "string" && !a.includes("\0") && a.length <= 65_536)
  ) {
    throw new DockerInputError(field, `Invalid ${field}: must be a non-empty argument array`);
  }
  return cmd;
}

/** The engine's Healthcheck object; durations in nanoseconds. */
function healthcheckBody(h: HealthcheckSpec | undefined): Record<string, unknown> | undefined {
  if (!h) return undefined;
  const kind = argv(h.test, "healthcheck.test")[0];
  if (!["CMD", "NONE"].includes(kind)) {
    throw new DockerInputError(
      "healthcheck.test",
      'Invalid healthcheck.test: "CMD" or "NONE" first',
    );
  }
  const ns = (ms: number | undefined, field: string) =>
    ms === undefined ? undefined : positiveInt(ms, `healthcheck.${field}`) * 1e6;
  return {
    Test: h.test,
    Interval: ns(h.intervalMs, "intervalMs"),
    Timeout: ns(h.timeoutMs, "timeoutMs"),
    Retries: h.retries,
    StartPeriod: ns(h.startPeriodMs, "startPeriodMs"),
  };
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function filtersParam(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  return JSON.stringify(filters);
}

function port(n: unknown, field: string, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > 65535) {
    throw new DockerInputError(field, `Invalid ${field} ${String(n)}: must be ${min}–65535`);
  }
  return n;
}

function positiveInt(n: unknown, field: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
    throw new DockerInputError(field, `Invalid ${field} ${String(n)}: must be a positive integer`);
  }
  return n;
}

function absolutePath(p: unknown, field: string): string {
  if (typeof p !== "string" || !p.startsWith("/") || p.includes("\0") || p.length > 4096) {
    throw new DockerInputError(field, `Invalid ${field}: must be an absolute path`);
  }
  return p;
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

class EngineClient implements DockerClient {
  readonly socketPath: string;
  readonly #timeoutMs: number;
  readonly #fetch: FetchLike;
  readonly #http: Deno.HttpClient | undefined;
  #closed = false;

  constructor(opts: DockerClientOptions) {
    this.socketPath = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    if (opts.fetch) {
      this.#fetch = opts.fetch;
    } else {
      // The socket is the proxy: every request goes over it whatever the URL's host says.
      this.#http = Deno.createHttpClient({
        proxy: { transport: "unix", path: this.socketPath },
      });
      this.#fetch = fetch;
    }
  }

  /** Releases the socket's HTTP client; closing twice is harmless (teardowns overlap). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#http?.close();
  }

  // ---- transport -------------------------------------------------------------------------

  #url(path: string, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) qs.set(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
    }
    const q = qs.toString();
    return `http://docker/v${DOCKER_API_VERSION}${path}${q ? `?${q}` : ""}`;
  }

  /** Turns a thrown transport error into something a caller can act on. */
  #mapError(err: unknown, call: Call, timedOut: AbortSignal, limit: number): unknown {
    if (err instanceof DockerError) return err;
    if (call.signal?.aborted) return call.signal.reason ?? err;
    if (err instanceof SyntaxError) {
      return new DockerError(502, `Invalid JSON from the Docker Engine for ${call.path}`, {
        cause: err,
      });
    }
    if (timedOut.aborted) {
      return new DockerError(
        504,
        `Docker Engine did not answer ${call.method} ${call.path} within ${limit} ms`,
        { cause: err },
      );
    }
    const msg = err instanceof Error ? err.message : String(err);
    return new DockerError(
      503,
      `Cannot connect to the Docker Engine at unix://${this.socketPath}: ${msg}`,
      { cause: err },
    );
  }

  /**
   * Sends one request and checks its status. The timeout covers the headers; for non-stream
   * calls the caller reads the body before calling `done()`, so it covers the body too.
   */
  async #send(
    call: Call,
  ): Promise<{ res: Response; done: () => void; timer: AbortSignal; limit: number }> {
    const limit = this.#timeoutMs + (call.extraMs ?? 0);
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), limit);
    const done = () => clearTimeout(handle);
    const signal = call.signal ? AbortSignal.any([call.signal, timer.signal]) : timer.signal;
    const init: RequestInit & { client?: Deno.HttpClient } = { method: call.method, signal };
    if (this.#http) init.client = this.#http;
    if (call.body !== undefined) {
      init.body = JSON.stringify(call.body);
      init.headers = { "content-type": "application/json" };
    }
    let res: Response;
    try {
      res = await this.#fetch(this.#url(call.path, call.query), init);
    } catch (err) {
      done();
      throw this.#mapError(err, call, timer.signal, limit);
    }
    // 304 is the engine's "already in that state" for start/stop, which callers treat as done.
    if (res.ok || res.status === 304) return { res, done, timer: timer.signal, limit };
    let text = "";
    try {
      text = await res.text();
    } catch (err) {
      throw this.#mapError(err, call, timer.signal, limit);
    } finally {
      done();
    }
    throw new DockerError(res.status, engineMessage(text, res.status));
  }

  async #json<T>(call: Call): Promise<T> {
    const { res, done, timer, limit } = await this.#send(call);
    try {
      if (res.status === 204 || res.status === 304) {
        await res.body?.cancel();
        return undefined as T;
      }
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw this.#mapError(err, call, timer, limit);
    } finally {
      done();
    }
  }

  async #void(call: Call): Promise<void> {
    await this.#json<unknown>(call);
  }

  /** Opens a streaming response; the header timeout is lifted once the engine has answered. */
  async #stream<T>(
    call: Call,
    decode: (chunks: AsyncIterable<Uint8Array>) => AsyncGenerator<T, void, undefined>,
  ): Promise<DockerStream<T>> {
    const { res, done } = await this.#send(call);
    done();
    if (!res.body) return emptyStream<T>();
    return bodyStream(
      res.body,
      decode,
      call.signal,
      (err) =>
        err instanceof DockerError || err instanceof DockerInputError ? err : new DockerError(
          502,
          `Docker Engine stream ${call.method} ${call.path} failed: ${
            err instanceof Error ? err.message : String(err)
          }`,
          { cause: err },
        ),
    );
  }

  // ---- system ----------------------------------------------------------------------------

  async ping(opts: CallOptions = {}): Promise<string> {
    const { res, done, timer, limit } = await this.#send({
      method: "GET",
      path: "/_ping",
      ...opts,
    });
    try {
      return await res.text();
    } catch (err) {
      throw this.#mapError(err, { method: "GET", path: "/_ping", ...opts }, timer, limit);
    } finally {
      done();
    }
  }

  async version(opts: CallOptions = {}): Promise<DockerVersion> {
    return await this.#json({ method: "GET", path: "/version", signal: opts.signal });
  }

  async info(opts: CallOptions = {}): Promise<DockerInfo> {
    return await this.#json({ method: "GET", path: "/info", signal: opts.signal });
  }

  async systemDf(opts: CallOptions = {}): Promise<SystemDf> {
    // df walks every container's and volume's files, so it gets more time than a plain call.
    return await this.#json({
      method: "GET",
      path: "/system/df",
      signal: opts.signal,
      extraMs: 60_000,
    });
  }

  // ---- containers ------------------------------------------------------------------------

  async listContainers(
    opts: { all?: boolean; filters?: Filters; size?: boolean } & CallOptions = {},
  ): Promise<ContainerSummary[]> {
    return await this.#json({
      method: "GET",
      path: "/containers/json",
      query: { all: opts.all, size: opts.size, filters: filtersParam(opts.filters) },
      signal: opts.signal,
    });
  }

  async inspectContainer(id: string, opts: CallOptions = {}): Promise<ContainerInspect> {
    const ref = containerRef(id);
    return await this.#json({
      method: "GET",
      path: `/containers/${enc(ref)}/json`,
      signal: opts.signal,
    });
  }

  async createContainer(
    name: string,
    spec: ContainerSpec,
    opts: CallOptions = {},
  ): Promise<{ id: string; warnings: string[] }> {
    const n = containerName(name);
    const body = createBody(spec);
    const r = await this.#json<{ Id: string; Warnings: string[] | null }>({
      method: "POST",
      path: "/containers/create",
      query: { name: n },
      body,
      signal: opts.signal,
    });
    return { id: r.Id, warnings: r.Warnings ?? [] };
  }

  async startContainer(id: string, opts: CallOptions = {}): Promise<void> {
    const ref = containerRef(id);
    return await this.#void({
      method: "POST",
      path: `/containers/${enc(ref)}/start`,
      signal: opts.signal,
    });
  }

  async stopContainer(id: string, opts: { t?: number } & CallOptions = {}): Promise<void> {
    const ref = containerRef(id);
    const t = opts.t === undefined ? undefined : graceSeconds(opts.t);
    return await this.#void({
      method: "POST",
      path: `/containers/${enc(ref)}/stop`,
      query: { t },
      signal: opts.signal,
      extraMs: (t ?? 10) * 1000,
    });
  }

  async restartContainer(id: string, opts: { t?: number } & CallOptions = {}): Promise<void> {
    const ref = containerRef(id);
    const t = opts.t === undefined ? undefined : graceSeconds(opts.t);
    return await this.#void({
      method: "POST",
      path: `/containers/${enc(ref)}/restart`,
      query: { t },
      signal: opts.signal,
      extraMs: (t ?? 10) * 1000,
    });
  }

  async killContainer(id: string, signal = "SIGKILL", opts: CallOptions = {}): Promise<void> {
    const ref = containerRef(id);
    const sig = signalName(signal);
    return await this.#void({
      method: "POST",
      path: `/containers/${enc(ref)}/kill`,
      query: { signal: sig },
      signal: opts.signal,
    });
  }

  async removeContainer(
    id: string,
    opts: { force?: boolean; v?: boolean } & CallOptions = {},
  ): Promise<void> {
    const ref = containerRef(id);
    return await this.#void({
      method: "DELETE",
      path: `/containers/${enc(ref)}`,
      query: { force: opts.force, v: opts.v },
      signal: opts.signal,
    });
  }

  async containerLogs(id: string, opts: LogsOptions = {}): Promise<DockerStream<LogLine>> {
    const ref = containerRef(id);
    const tail = opts.tail === undefined || opts.tail === "all" ? "all" : opts.tail;
    if (tail !== "all" && (!Number.isSafeInteger(tail) || tail < 0)) {
      throw new DockerInputError("tail", `Invalid tail ${String(tail)}: must be a count or "all"`);
    }
    const since = opts.since === undefined ? undefined : sinceValue(opts.since);
    const maxLineBytes = opts.maxLineBytes ?? MAX_LOG_LINE_BYTES;
    // Without a TTY the engine multiplexes stdout/stderr in frames; with one it sends raw bytes.
    const tty = opts.tty ?? (await this.inspectContainer(ref, { signal: opts.signal })).Config.Tty;
    const timestamps = opts.timestamps ?? false;
    return await this.#stream(
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
  }

  async containerStats(id: string, opts: StatsOptions = {}): Promise<DockerStream<DockerStats>> {
    const ref = containerRef(id);
    const stream = opts.stream ?? true;
    return await this.#stream(
      {
        method: "GET",
        path: `/containers/${enc(ref)}/stats`,
        query: stream ? { stream: true } : { stream: false, "one-shot": true },
        signal: opts.signal,
      },
      (chunks) => jsonLines<DockerStats>(chunks),
    );
  }

  async containerStatsOnce(id: string, opts: CallOptions = {}): Promise<DockerStats> {
    const ref = containerRef(id);
    return await this.#json({
      method: "GET",
      path: `/containers/${enc(ref)}/stats`,
      query: { stream: false, "one-shot": true },
      signal: opts.signal,
    });
  }

  // ---- exec ------------------------------------------------------------------------------

  async execCreate(id: string, spec: ExecSpec, opts: CallOptions = {}): Promise<{ id: string }> {
    const ref = containerRef(id);
    const r = await this.#json<{ Id: string }>({
      method: "POST",
      path: `/containers/${enc(ref)}/exec`,
      body: {
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Cmd: argv(spec.cmd, "cmd"),
        Env: envList(spec.env),
        User: spec.user,
        WorkingDir: spec.workingDir,
      },
      signal: opts.signal,
    });
    return { id: r.Id };
  }

  async execStart(id: string, opts: CallOptions = {}): Promise<DockerStream<Frame>> {
    // Without a TTY the output is multiplexed exactly like logs, so the same demuxer reads it.
    return await this.#stream(
      {
        method: "POST",
        path: `/exec/${enc(execId(id))}/start`,
        body: { Detach: false, Tty: false },
        signal: opts.signal,
      },
      frames,
    );
  }

  async execInspect(id: string, opts: CallOptions = {}): Promise<ExecInspect> {
    return await this.#json({
      method: "GET",
      path: `/exec/${enc(execId(id))}/json`,
      signal: opts.signal,
    });
  }

  // ---- images ----------------------------------------------------------------------------

  async listImages(
    opts: { all?: boolean; filters?: Filters } & CallOptions = {},
  ): Promise<ImageSummary[]> {
    return await this.#json({
      method: "GET",
      path: "/images/json",
      query: { all: opts.all, filters: filtersParam(opts.filters) },
      signal: opts.signal,
    });
  }

  async inspectImage(ref: string, opts: CallOptions = {}): Promise<ImageInspect> {
    const r = imageRef(ref);
    return await this.#json({ method: "GET", path: `/images/${enc(r)}/json`, signal: opts.signal });
  }

  async pullImage(
    ref: string,
    onProgress?: (p: PullProgress) => void,
    opts: CallOptions = {},
  ): Promise<void> {
    const { name, tag } = splitImageRef(imageRef(ref));
    let stream: DockerStream<PullProgress>;
    try {
      stream = await this.#stream(
        {
          method: "POST",
          path: "/images/create",
          query: { fromImage: name, tag },
          signal: opts.signal,
        },
        (chunks) => jsonLines<PullProgress>(chunks),
      );
    } catch (err) {
      // The engine's message names the registry URL but not the image the user asked for.
      if (err instanceof DockerError) {
        throw new DockerError(err.status, `Cannot pull ${ref}: ${err.message}`, { cause: err });
      }
      throw err;
    }
    try {
      for await (const p of stream) {
        // A failed pull still answers 200; the failure is an error object inside the stream.
        if (p.error || p.errorDetail?.message) {
          throw new DockerError(500, `Cannot pull ${ref}: ${p.errorDetail?.message ?? p.error}`);
        }
        onProgress?.(p);
      }
    } finally {
      await stream.close();
    }
    // Closing the connection cancels the pull in the engine, so a caller abort must not look
    // like success.
    if (opts.signal?.aborted) throw opts.signal.reason;
  }

  async removeImage(
    ref: string,
    opts: { force?: boolean; noprune?: boolean } & CallOptions = {},
  ): Promise<ImageDeleteItem[]> {
    const r = imageRef(ref);
    return await this.#json({
      method: "DELETE",
      path: `/images/${enc(r)}`,
      query: { force: opts.force, noprune: opts.noprune },
      signal: opts.signal,
    });
  }

  async pruneImages(
    opts: { dangling?: boolean; filters?: Filters } & CallOptions = {},
  ): Promise<ImagePruneResult> {
    const filters: Filters = { ...opts.filters, dangling: [String(opts.dangling ?? true)] };
    return await this.#json({
      method: "POST",
      path: "/images/prune",
      query: { filters: filtersParam(filters) },
      signal: opts.signal,
      extraMs: 60_000,
    });
  }

  // ---- networks --------------------------------------------------------------------------

  async listNetworks(opts: { filters?: Filters } & CallOptions = {}): Promise<NetworkInspect[]> {
    return await this.#json({
      method: "GET",
      path: "/networks",
      query: { filters: filtersParam(opts.filters) },
      signal: opts.signal,
    });
  }

  async inspectNetwork(idOrName: string, opts: CallOptions = {}): Promise<NetworkInspect> {
    const n = networkName(idOrName);
    return await this.#json({ method: "GET", path: `/networks/${enc(n)}`, signal: opts.signal });
  }

  async createNetwork(
    spec: NetworkCreateSpec,
    opts: CallOptions = {},
  ): Promise<{ id: string; warning: string }> {
    const name = networkName(spec.name, "name");
    const driver = spec.driver ?? "bridge";
    if (!DRIVER_RE.test(driver)) {
      throw new DockerInputError("driver", `Invalid driver ${JSON.stringify(driver)}`);
    }
    if (spec.subnet !== undefined && !CIDR_RE.test(spec.subnet)) {
      throw new DockerInputError(
        "subnet",
        `Invalid subnet ${JSON.stringify(spec.subnet)}: must be CIDR`,
      );
    }
    if (spec.ipRange !== undefined && !CIDR_RE.test(spec.ipRange)) {
      throw new DockerInputError(
        "ipRange",
        `Invalid ipRange ${JSON.stringify(spec.ipRange)}: must be CIDR`,
      );
    }
    if (spec.gateway !== undefined && !IP_RE.test(spec.gateway)) {
      throw new DockerInputError("gateway", `Invalid gateway ${JSON.stringify(spec.gateway)}`);
    }
    const ipamConfig = spec.subnet || spec.gateway || spec.ipRange
      ? [{ Subnet: spec.subnet, Gateway: spec.gateway, IPRange: spec.ipRange }]
      : [];
    const r = await this.#json<{ Id: string; Warning?: string }>({
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
  }

  async removeNetwork(idOrName: string, opts: CallOptions = {}): Promise<void> {
    const n = networkName(idOrName);
    return await this.#void({ method: "DELETE", path: `/networks/${enc(n)}`, signal: opts.signal });
  }

  // ---- volumes ---------------------------------------------------------------------------

  async listVolumes(opts: { filters?: Filters } & CallOptions = {}): Promise<Volume[]> {
    const r = await this.#json<{ Volumes: Volume[] | null }>({
      method: "GET",
      path: "/volumes",
      query: { filters: filtersParam(opts.filters) },
      signal: opts.signal,
    });
    return r.Volumes ?? [];
  }

  async inspectVolume(name: string, opts: CallOptions = {}): Promise<Volume> {
    const n = volumeName(name);
    return await this.#json({ method: "GET", path: `/volumes/${enc(n)}`, signal: opts.signal });
  }

  async createVolume(spec: VolumeCreateSpec, opts: CallOptions = {}): Promise<Volume> {
    const name = volumeName(spec.name, "name");
    const driver = spec.driver ?? "local";
    if (!DRIVER_RE.test(driver)) {
      throw new DockerInputError("driver", `Invalid driver ${JSON.stringify(driver)}`);
    }
    return await this.#json({
      method: "POST",
      path: "/volumes/create",
      body: {
        Name: name,
        Driver: driver,
        Labels: spec.labels ?? {},
        DriverOpts: spec.driverOpts ?? {},
      },
      signal: opts.signal,
    });
  }

  async removeVolume(name: string, opts: { force?: boolean } & CallOptions = {}): Promise<void> {
    const n = volumeName(name);
    return await this.#void({
      method: "DELETE",
      path: `/volumes/${enc(n)}`,
      query: { force: opts.force },
      signal: opts.signal,
    });
  }

  // ---- events ----------------------------------------------------------------------------

  async events(opts: EventsOptions = {}): Promise<DockerStream<DockerEvent>> {
    return await this.#stream(
      {
        method: "GET",
        path: "/events",
        query: {
          since: opts.since === undefined ? undefined : sinceValue(opts.since),
          until: opts.until === undefined ? undefined : sinceValue(opts.until, "until"),
          filters: filtersParam(opts.filters),
        },
        signal: opts.signal,
      },
      (chunks) => jsonLines<DockerEvent>(chunks),
    );
  }
}

function graceSeconds(t: number): number {
  if (!Number.isInteger(t) || t < 0 || t > 3600) {
    throw new DockerInputError("t", `Invalid t ${t}: must be whole seconds 0–3600`);
  }
  return t;
}

/** Extracts Docker's `{"message": …}` from an error body, falling back to the raw text. */
function engineMessage(text: string, status: number): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const m = (JSON.parse(trimmed) as { message?: unknown }).message;
      if (typeof m === "string" && m) return m;
    } catch {
      // not JSON after all; use the text
    }
  }
  return trimmed.slice(0, 1000) || `Docker Engine answered ${status}`;
}

function emptyStream<T>(): DockerStream<T> {
  return {
    async *[Symbol.asyncIterator]() {},
    close: () => Promise.resolve(),
  };
}

/**
 * Wraps a response body as a DockerStream. Cancelling the reader (close, break out of the loop,
 * or the caller's signal) drops the connection, which is how the engine learns to stop.
 */
function bodyStream<T>(
  body: ReadableStream<Uint8Array>,
  decode: (chunks: AsyncIterable<Uint8Array>) => AsyncGenerator<T, void, undefined>,
  signal: AbortSignal | undefined,
  mapErr: (err: unknown) => unknown,
): DockerStream<T> {
  const reader = body.getReader();
  let closed = false;
  let iterated = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
  };
  const onAbort = () => void close();
  if (signal?.aborted) void close();
  else signal?.addEventListener("abort", onAbort, { once: true });

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    while (true) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        // An abort or close while waiting is the caller ending the stream, not a failure.
        if (closed || signal?.aborted) return;
        throw err;
      }
      if (r.done) return;
      yield r.value;
    }
  }

  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (iterated) throw new TypeError("A Docker stream can be iterated only once");
      iterated = true;
      const gen = decode(chunks());
      return {
        async next(): Promise<IteratorResult<T>> {
          if (closed) return { done: true, value: undefined };
          try {
            const r = await gen.next();
            if (r.done) await close();
            return r;
          } catch (err) {
            await close();
            if (signal?.aborted) return { done: true, value: undefined };
            throw mapErr(err);
          }
        },
        async return(): Promise<IteratorResult<T>> {
          await close();
          await gen.return(undefined).catch(() => {});
          return { done: true, value: undefined };
        },
      };
    },
    close,
  };
}
