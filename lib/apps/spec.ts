/**
 * The app spec: what a user describes (services with image, command, env, ports, volumes,
 * replicas, limits, health check, restart, placement, update policy, dependencies) and every rule
 * a spec must meet before anything reaches Swarm. Field errors name the field in the API's
 * dotted form (`services.0.resources.limits.memory_bytes`) and read as sentences.
 */
import { z } from "zod";
import { ImageRef, Labels, VolumeName } from "../protocol/ops.ts";

/** App names: DNS-safe, so `<service>.<app>` is a valid DNS name on the org network. */
export const AppName = z.string().regex(
  /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/,
  "must be 1–30 lowercase letters, digits or dashes, not starting or ending with a dash",
);
/** Service names inside an app: DNS labels too. */
export const ServiceName = z.string().regex(
  /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/,
  "must be 1–20 lowercase letters, digits or dashes, not starting or ending with a dash",
);

const Argv = z.array(z.string().max(4096).refine((s) => !s.includes("\0"), "must not contain NUL"))
  .min(1, "needs at least one argument").max(128, "at most 128 arguments");
const EnvKey = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  "environment names are letters, digits and _, not starting with a digit",
);
const Seconds = (max: number) => z.number().min(0).max(max);
const AbsolutePath = z.string().regex(
  /^\/[^\0\r\n:]{0,4095}$/,
  "must be an absolute path in the container",
);

/**
 * A secret of the organization given to a service: as an environment variable (visible to
 * anyone who may `docker inspect` its containers on the node) and/or as a file (a Swarm secret,
 * in memory on the node, mounted read-only at `/run/secrets/<name>` or the path given). The
 * deployment resolves the secret's version; its value never enters the spec.
 */
export const SecretRef = z.object({
  secret: z.string().regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    "must be a secret name: letters, digits or _, not starting with a digit",
  ),
  env: EnvKey.optional(),
  file: z.object({
    target: AbsolutePath.optional(),
    uid: z.string().regex(/^\d{1,10}$/, "must be a numeric user id").default("0"),
    gid: z.string().regex(/^\d{1,10}$/, "must be a numeric group id").default("0"),
    mode: z.number().int().min(0).max(0o777).default(0o400),
  }).strict().optional(),
}).strict().refine((r) => r.env !== undefined || r.file !== undefined, {
  message: "give env, file or both",
  path: ["env"],
});
export type SecretRef = z.output<typeof SecretRef>;

/** Where a file secret is mounted. */
export const secretFileTarget = (r: SecretRef) => r.file?.target ?? `/run/secrets/${r.secret}`;
const Cpus = z.number().positive("must be more than 0").max(1024, "at most 1024 CPUs");
const Memory = z.number().int().min(6 * 1024 * 1024, "must be at least 6 MiB").max(
  2 ** 50,
  "is too large",
);
const Constraint = z.string().regex(
  /^(?:node\.(?:id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]{1,128})|engine\.labels\.[A-Za-z0-9_.-]{1,128})\s*(?:==|!=)\s*[A-Za-z0-9_.:-]{1,253}$/,
  "must look like node.hostname==web-1 or node.labels.disk==ssd",
);

const Resources = z.object({
  cpus: Cpus.optional(),
  memory_bytes: Memory.optional(),
}).strict();

/** How a new version replaces the old one; defaults are zero-downtime (start-first, roll back). */
export const UpdatePolicy = z.object({
  parallelism: z.number().int().min(0).max(100).default(1),
  delay_s: Seconds(3600).default(0),
  order: z.enum(["start-first", "stop-first"]).default("start-first"),
  failure_action: z.enum(["rollback", "pause", "continue"]).default("rollback"),
  monitor_s: Seconds(3600).default(15),
  max_failure_ratio: z.number().min(0).max(1).default(0),
}).strict();
export type UpdatePolicy = z.output<typeof UpdatePolicy>;

/** One service of an app. */
export const ServiceSpec = z.object({
  name: ServiceName,
  image: ImageRef,
  /** Replaces the image's entrypoint. */
  command: Argv.optional(),
  /** Replaces the image's command. */
  args: z.array(z.string().max(4096)).max(128).optional(),
  env: z.record(EnvKey, z.string().max(32_768)).refine(
    (r) => Object.keys(r).length <= 256,
    "at most 256 variables",
  ).default({}),
  secrets: z.array(SecretRef).max(64, "at most 64 secrets").default([]),
  ports: z.array(
    z.object({
      target: z.number().int().min(1).max(65535),
      published: z.number().int().min(1).max(65535).optional(),
      protocol: z.enum(["tcp", "udp"]).default("tcp"),
      mode: z.enum(["ingress", "host"]).default("ingress"),
    }).strict(),
  ).max(32).default([]),
  volumes: z.array(
    z.object({
      name: VolumeName,
      target: z.string().regex(
        /^\/[^\0\r\n:]{0,4095}$/,
        "must be an absolute path in the container",
      ),
      read_only: z.boolean().default(false),
    }).strict(),
  ).max(32).default([]),
  replicas: z.number().int().min(0).max(100).default(1),
  global: z.boolean().default(false),
  resources: z.object({
    limits: Resources.optional(),
    reservations: Resources.optional(),
  }).strict().default({}),
  health_check: z.object({
    cmd: Argv,
    interval_s: Seconds(3600).default(10),
    timeout_s: Seconds(3600).default(5),
    retries: z.number().int().min(0).max(100).default(3),
    start_period_s: Seconds(3600).default(0),
  }).strict().optional(),
  /** How long a task may take to stop after SIGTERM before it is killed (Docker's default 10 s). */
  stop_grace_s: Seconds(3600).optional(),
  restart: z.object({
    condition: z.enum(["any", "on-failure", "none"]).default("any"),
    max_attempts: z.number().int().min(0).max(1000).optional(),
    delay_s: Seconds(3600).default(5),
  }).strict().default({ condition: "any", delay_s: 5 }),
  placement: z.object({
    constraints: z.array(Constraint).max(16).default([]),
    max_replicas_per_node: z.number().int().min(0).max(100).optional(),
  }).strict().default({ constraints: [] }),
  update: UpdatePolicy.default(UpdatePolicy.parse({})),
  labels: Labels.default({}),
  depends_on: z.array(ServiceName).max(16).default([]),
  // Options that reach outside the container. Swarm services cannot be privileged or get
  // devices at all; the rest only organization admins may set (lib/apps/policy.ts).
  privileged: z.boolean().default(false),
  network_mode: z.enum(["host"]).optional(),
  pid_mode: z.enum(["host"]).optional(),
  devices: z.array(z.string().regex(/^\/dev\/[\w./-]{1,200}$/)).max(32).optional(),
  cap_add: z.array(z.string().regex(/^[A-Z_]{2,32}$/)).max(32).optional(),
  binds: z.array(z.string().regex(/^\/[^\0\r\n:]{0,4095}:\/[^\0\r\n:]{0,4095}(?::ro)?$/)).max(32)
    .optional(),
}).strict();
export type ServiceSpec = z.output<typeof ServiceSpec>;

/** The whole app: its services, deployed together. */
export const AppSpec = z.object({
  services: z.array(ServiceSpec).min(1, "an app needs at least one service").max(
    16,
    "at most 16 services",
  ),
}).strict().superRefine((spec, ctx) => {
  for (const problem of specProblems(spec)) {
    ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  }
});
export type AppSpec = z.output<typeof AppSpec>;
export type AppSpecInput = z.input<typeof AppSpec>;

/** A rule a valid-looking spec still breaks. */
interface Problem {
  path: (string | number)[];
  message: string;
}

/** Rules across fields: unique names, reservations within limits, ports, dependencies. */
export function specProblems(spec: { services: ServiceSpec[] }): Problem[] {
  const out: Problem[] = [];
  const names = new Map<string, number>();
  const published = new Map<string, string>();
  spec.services.forEach((s, i) => {
    const at = (...path: (string | number)[]) => ["services", i, ...path];
    if (names.has(s.name)) {
      out.push({ path: at("name"), message: `service name "${s.name}" is used twice` });
    }
    names.set(s.name, i);
    const lim = s.resources.limits;
    const res = s.resources.reservations;
    if (lim?.memory_bytes !== undefined && res?.memory_bytes !== undefined) {
      if (lim.memory_bytes < res.memory_bytes) {
        out.push({
          path: at("resources", "limits", "memory_bytes"),
          message: "memory limit below reservation",
        });
      }
    }
    if (lim?.cpus !== undefined && res?.cpus !== undefined && lim.cpus < res.cpus) {
      out.push({ path: at("resources", "limits", "cpus"), message: "CPU limit below reservation" });
    }
    if (s.global && s.replicas !== 1) {
      out.push({ path: at("replicas"), message: "a global service runs one task per node" });
    }
    s.ports.forEach((p, j) => {
      if (p.published === undefined) return;
      const key = `${p.published}/${p.protocol}`;
      const other = published.get(key);
      if (other) {
        out.push({
          path: at("ports", j, "published"),
          message: `port ${p.published} is already published by service ${other}`,
        });
      }
      published.set(key, s.name);
    });
    const mounts = new Set<string>();
    s.volumes.forEach((v, j) => {
      if (mounts.has(v.target)) {
        out.push({ path: at("volumes", j, "target"), message: `${v.target} is mounted twice` });
      }
      mounts.add(v.target);
    });
    const envNames = new Set(Object.keys(s.env));
    s.secrets.forEach((r, j) => {
      if (r.env !== undefined) {
        if (envNames.has(r.env)) {
          out.push({
            path: at("secrets", j, "env"),
            message: `${r.env} is already set in env`,
          });
        }
        envNames.add(r.env);
      }
      if (r.file) {
        // Docker keeps one file per secret in a task, whatever the number of targets: a second
        // mount of the same secret would share the first one's mode and owner.
        if (s.secrets.some((o, k) => k < j && o.secret === r.secret && o.file)) {
          out.push({
            path: at("secrets", j, "file"),
            message: `${r.secret} is already mounted as a file in this service`,
          });
        }
        const target = secretFileTarget(r);
        if (mounts.has(target)) {
          out.push({
            path: at("secrets", j, "file", "target"),
            message: `${target} is mounted twice`,
          });
        }
        mounts.add(target);
      }
    });
  });
  spec.services.forEach((s, i) => {
    s.depends_on.forEach((d, j) => {
      const path = ["services", i, "depends_on", j];
      if (d === s.name) out.push({ path, message: "a service cannot depend on itself" });
      else if (!names.has(d)) out.push({ path, message: `no service named "${d}" in this app` });
    });
  });
  const cycle = dependencyCycle(spec.services);
  if (cycle) {
    out.push({
      path: ["services"],
      message: `services depend on each other in a cycle: ${cycle.join(" → ")}`,
    });
  }
  return out;
}

/** A dependency cycle as names (first repeated at the end), or undefined. */
function dependencyCycle(services: ServiceSpec[]): string[] | undefined {
  const deps = new Map(services.map((s) => [s.name, s.depends_on]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (!deps.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of deps.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** Services in an order where each comes after what it depends on (the spec is cycle-free). */
export function startOrder(services: ServiceSpec[]): ServiceSpec[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: ServiceSpec[] = [];
  const seen = new Set<string>();
  const visit = (s: ServiceSpec) => {
    if (seen.has(s.name)) return;
    seen.add(s.name);
    for (const d of s.depends_on) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    out.push(s);
  };
  services.forEach(visit);
  return out;
}
