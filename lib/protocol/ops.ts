import * as z from "zod";
import {
  ContainerName,
  ContainerRef,
  ImageRef,
  NetworkName,
  SignalName,
  VolumeName,
} from "./docker_strings.ts";
import { HealthSync } from "./health.ts";
import { IMAGE_CALL_OPS, IMAGE_STREAM_OPS } from "./images.ts";
import { UPDATE_CHECK_OP, UpdateCheckParams } from "./release.ts";
import { SWARM_CALL_OPS, SWARM_STREAM_OPS } from "./swarm.ts";
import { BUILD_STREAM_OPS } from "./build.ts";
import { SNAPSHOT_CALL_OPS, SNAPSHOT_STREAM_OPS } from "./snapshots.ts";

/**
 * The closed list of operations the hub may ask an agent for, with the zod schema of each one's
 * parameters. The hub validates before sending (400 naming the field) and the agent validates
 * again before touching the engine: nothing outside this list reaches Docker.
 */

export * from "./docker_strings.ts";

const oneLine = (max: number) =>
  z.string().max(max).refine((s) => !/[\r\n\0]/.test(s), "must be one line");
const LabelKey = z.string().regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}$/,
  "label keys: letters, digits and _ . / -",
);
export const Labels = z.record(LabelKey, oneLine(1024)).refine(
  (r) => Object.keys(r).length <= 64,
  "at most 64 labels",
);
const EnvKey = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
  "environment names: letters, digits and _ . -",
);

/** A container to create, as users and the API describe it. */
export const ContainerCreateSpec = z.object({
  name: ContainerName.optional(),
  image: ImageRef,
  cmd: z.array(z.string().max(4096)).max(128).optional(),
  env: z.record(EnvKey, z.string().max(32_768)).refine(
    (r) => Object.keys(r).length <= 256,
    "at most 256 variables",
  )
    .optional(),
  ports: z.array(z.object({
    container_port: z.number().int().min(1).max(65535),
    protocol: z.enum(["tcp", "udp", "sctp"]).default("tcp"),
    host_port: z.number().int().min(0).max(65535).optional(),
    host_ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  })).max(64).optional(),
  volumes: z.array(z.object({
    name: VolumeName,
    target: z.string().regex(/^\/[^\0\r\n:]{0,4095}$/, "must be an absolute path in the container"),
    read_only: z.boolean().default(false),
  })).max(64).optional(),
  restart_policy: z.enum(["no", "always", "unless-stopped", "on-failure"]).default("no"),
  labels: Labels.optional(),
  cpus: z.number().positive().max(1024).optional(),
  memory_bytes: z.number().int().min(6 * 1024 * 1024, "must be at least 6 MiB").max(2 ** 50)
    .optional(),
  // Powerful options: only platform/org admins may set them (see lib/docker/policy on the hub).
  privileged: z.boolean().default(false),
  network_mode: z.string().regex(/^(bridge|host|none|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})$/)
    .optional(),
  pid_mode: z.enum(["host"]).optional(),
  devices: z.array(z.string().regex(/^\/dev\/[\w./-]{1,200}$/)).max(32).optional(),
  cap_add: z.array(z.string().regex(/^[A-Z_]{2,32}$/)).max(32).optional(),
  binds: z.array(z.string().regex(/^\/[^\0\r\n]{0,4095}$/)).max(32).optional(),
});
export type ContainerCreateSpec = z.infer<typeof ContainerCreateSpec>;

const Id = z.object({ id: ContainerRef });

/** Operations answered once. */
export const CALL_OPS = {
  "engine.info": z.lazy(() => z.object({})),
  "containers.list": z.lazy(() => z.object({ all: z.boolean().default(true) })),
  "container.inspect": Id,
  "container.create": z.lazy(() =>
    z.object({ spec: ContainerCreateSpec, start: z.boolean().default(false) })
  ),
  "container.start": Id,
  "container.stop": z.lazy(() =>
    Id.extend({ timeout_s: z.number().int().min(0).max(600).optional() })
  ),
  "container.restart": z.lazy(() =>
    Id.extend({ timeout_s: z.number().int().min(0).max(600).optional() })
  ),
  "container.kill": z.lazy(() => Id.extend({ signal: SignalName.default("SIGKILL") })),
  "container.remove": z.lazy(() =>
    Id.extend({
      force: z.boolean().default(false),
      volumes: z.boolean().default(false),
    })
  ),
  "container.stats": Id,
  // Counters of many running containers at once, read from cgroup files (no engine sampling wait).
  "containers.stats_snapshot": z.lazy(() =>
    z.object({ ids: z.array(ContainerRef).max(1000).optional() })
  ),
  "images.list": z.lazy(() => z.object({})),
  "image.remove": z.lazy(() => z.object({ ref: ImageRef, force: z.boolean().default(false) })),
  "images.prune": z.lazy(() => z.object({})),
  "networks.list": z.lazy(() => z.object({})),
  "network.create": z.lazy(() =>
    z.object({
      name: NetworkName,
      driver: z.enum(["bridge", "overlay", "macvlan"]).default("bridge"),
      subnet: z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, "must be CIDR like 10.10.0.0/24")
        .optional(),
      gateway: z.union([z.ipv4(), z.ipv6()]).optional(),
      parent: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, "must be an interface name")
        .optional(),
      labels: Labels.optional(),
    })
  ),
  "network.remove": z.lazy(() => z.object({ id: NetworkName })),
  "volumes.list": z.lazy(() => z.object({ sizes: z.boolean().default(false) })),
  "volume.create": z.lazy(() =>
    z.object({
      name: VolumeName,
      driver: z.literal("local").default("local"),
      labels: Labels.optional(),
    })
  ),
  "volume.remove": z.lazy(() => z.object({ name: VolumeName, force: z.boolean().default(false) })),
  // The complete set of health checks this host's agent should run (replaces the previous set).
  "health.sync": HealthSync,
  ...SWARM_CALL_OPS,
  ...IMAGE_CALL_OPS,
  ...SNAPSHOT_CALL_OPS,
} as const;

/** Operations that stream chunks until cancelled or finished. */
export const STREAM_OPS = {
  "container.logs": z.lazy(() =>
    Id.extend({
      tail: z.number().int().min(0).max(10_000).default(200),
      follow: z.boolean().default(true),
      timestamps: z.boolean().default(true),
    })
  ),
  "container.stats_stream": Id,
  "image.pull": z.lazy(() => z.object({ ref: ImageRef })),
  ...SWARM_STREAM_OPS,
  ...IMAGE_STREAM_OPS,
  ...BUILD_STREAM_OPS,
  ...SNAPSHOT_STREAM_OPS,
} as const;

/** Operations about the agent itself (not the engine), answered by the agent's session. */
export const AGENT_OPS = {
  [UPDATE_CHECK_OP]: UpdateCheckParams,
} as const;

export type CallOp = keyof typeof CALL_OPS;
export type StreamOp = keyof typeof STREAM_OPS;
export type AgentOp = keyof typeof AGENT_OPS;
export type OpName = CallOp | StreamOp | AgentOp;
export type OpParams<O extends OpName> = O extends CallOp ? z.input<(typeof CALL_OPS)[O]>
  : O extends StreamOp ? z.input<(typeof STREAM_OPS)[O]>
  : O extends AgentOp ? z.input<(typeof AGENT_OPS)[O]>
  : never;

/** The parameter schema of an operation, or undefined for a name outside the closed list. */
export function opSchema(op: string): z.ZodType | undefined {
  return (CALL_OPS as Record<string, z.ZodType>)[op] ??
    (STREAM_OPS as Record<string, z.ZodType>)[op] ??
    (AGENT_OPS as Record<string, z.ZodType>)[op];
}

/** Params values `parseOpParams` produced, with the operation each was checked for. */
const parsed = new WeakMap<object, string>();

/**
 * Parses an operation's params with its schema (undefined for a name outside the closed list).
 * The hub checks an operation before it looks up the host, so bad input is refused before anything
 * is audited, and the agent connection checks whatever it is about to send, for callers that did
 * not; a value this returned is remembered with its operation, so that second check does not
 * parse again. Pass it on unchanged.
 */
export function parseOpParams(
  op: string,
  params: unknown,
): { success: true; data: unknown } | { success: false; error: z.ZodError } | undefined {
  if (typeof params === "object" && params !== null && parsed.get(params) === op) {
    return { success: true, data: params };
  }
  const schema = opSchema(op);
  if (!schema) return undefined;
  const r = schema.safeParse(params ?? {});
  if (r.success && typeof r.data === "object" && r.data !== null) parsed.set(r.data, op);
  return r.success ? { success: true, data: r.data } : { success: false, error: r.error };
}

/** Whether `op` streams. */
export function isStreamOp(op: string): op is StreamOp {
  return Object.hasOwn(STREAM_OPS, op);
}
