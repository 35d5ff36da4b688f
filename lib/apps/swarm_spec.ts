/**
 * From an app spec to the Swarm services that run it. Every service carries the labels Capstan
 * reconciles by (`capstan.org`, `capstan.app`, `capstan.service`, `capstan.deployment`), joins
 * its app's network (where `<service>` resolves) and its organization's network (where
 * `<service>.<app>` resolves, and nothing of another organization is reachable).
 */
import type { ServiceSpec as DockerServiceSpec } from "../docker/services.ts";
import { secretFileTarget, type ServiceSpec } from "./spec.ts";
import { pinConstraint } from "./placement.ts";

/** The label keys of Swarm objects Capstan owns. */
export const LABELS = {
  org: "capstan.org",
  app: "capstan.app",
  service: "capstan.service",
  deployment: "capstan.deployment",
  /** On task containers: the environment variables that hold secrets (Capstan masks them). */
  secretEnv: "capstan.secret_env",
  /** On Swarm secrets: which Capstan secret and version they hold. */
  secret: "capstan.secret",
  secretVersion: "capstan.secret_version",
} as const;

/** A secret version as a deployment hands it to a service. */
export interface ResolvedSecret {
  /** The Swarm secret holding it (for file injection). */
  swarmId: string;
  swarmName: string;
  /** The value as text, for environment injection (text secrets only). */
  text?: string;
}

/** The Swarm secret name of a secret version: unique per install, ≤ 64 characters. */
export function swarmSecretName(secretId: string, version: number): string {
  return `capstan_${secretId.replaceAll("-", "").slice(-20)}_v${version}`;
}

/** What a deployment's services need to know besides the spec. */
export interface DeployTarget {
  org: { id: string; slug: string };
  app: { id: string; name: string };
  deploymentId: string;
  /** The organization's overlay network and the app's own. */
  networks: { org: string; app: string };
  /**
   * Whether the cluster has Swarm's routing mesh (IPVS). Without it, virtual IPs do not route,
   * so services resolve by DNS round-robin (`dnsrr`) instead.
   */
  routingMesh: boolean;
  /** Image references as resolved for this deployment (service name → pinned reference). */
  images?: Record<string, string>;
  /** Bumped to restart every task without a spec change. */
  forceUpdate?: number;
  /** The node the service is pinned to (`node.id==…`), by the app's migration policy. */
  pin?: string;
  /**
   * The deployment moves the service's tasks to another node: a new task binds its host ports
   * there, not beside the old one, so it may start first even with host-mode ports.
   */
  moving?: boolean;
  /** The secret versions of this deployment, by secret name. */
  secrets?: Record<string, ResolvedSecret>;
  /** Replace tasks stop-first whatever the update policy says ("restart now" rotations). */
  stopFirst?: boolean;
}

/** The Swarm service name of an app's service: readable, unique per install, ≤ 63 characters. */
export function swarmServiceName(
  org: { slug: string },
  app: { id: string; name: string },
  service: string,
): string {
  const readable = `${org.slug}_${app.name}_${service}`;
  if (readable.length <= 63) return readable;
  // App ≤ 30 and service ≤ 20 characters keep this within 63 with 10 characters of the app id.
  return `${app.name}_${service}_${app.id.replaceAll("-", "").slice(-10)}`;
}

/** The network names an organization's and an app's services share. */
export function networkNames(org: { id: string }, app: { id: string }) {
  return {
    org: `capstan_org_${org.id.replaceAll("-", "").slice(-16)}`,
    app: `capstan_app_${app.id.replaceAll("-", "").slice(-16)}`,
  };
}

const ns = (s: number) => Math.round(s * 1000);

/** The Docker service spec of one app service in a deployment. */
export function toSwarmService(s: ServiceSpec, t: DeployTarget): DockerServiceSpec {
  const labels = {
    ...s.labels,
    [LABELS.org]: t.org.id,
    [LABELS.app]: t.app.id,
    [LABELS.service]: s.name,
    [LABELS.deployment]: t.deploymentId,
  };
  const cpus = (c: number | undefined) => c === undefined ? undefined : Math.round(c * 1e9);
  const lim = s.resources.limits;
  const res = s.resources.reservations;
  // A host-mode port is bound on the node itself: a new task cannot start beside the old one on
  // the same node, so start-first would wait forever. Such services replace tasks stop-first
  // (a short gap per task); start-first needs the routing mesh or no published host port, or a
  // move to another node, where the new task binds the port on its own node.
  const hostPorts = s.ports.some((p) => p.published !== undefined && p.mode === "host");
  const order = t.stopFirst || (hostPorts && !t.moving) ? "stop-first" : s.update.order;
  const secretEnv: Record<string, string> = {};
  const secretFiles: NonNullable<DockerServiceSpec["secrets"]> = [];
  for (const ref of s.secrets) {
    const r = t.secrets?.[ref.secret];
    if (!r) throw new Error(`secret ${ref.secret} was not resolved for service ${s.name}`);
    if (ref.env !== undefined) {
      if (r.text === undefined) {
        throw new Error(`secret ${ref.secret} is binary and cannot be an environment variable`);
      }
      secretEnv[ref.env] = r.text;
    }
    if (ref.file) {
      secretFiles.push({
        secretId: r.swarmId,
        secretName: r.swarmName,
        target: secretFileTarget(ref),
        uid: ref.file.uid,
        gid: ref.file.gid,
        mode: ref.file.mode,
      });
    }
  }
  const envSecrets = Object.keys(secretEnv).sort().join(",");
  return {
    name: swarmServiceName(t.org, t.app, s.name),
    image: t.images?.[s.name] ?? s.image,
    labels,
    // Task containers carry the ownership labels too, so a container list can be grouped by app.
    containerLabels: {
      [LABELS.org]: t.org.id,
      [LABELS.app]: t.app.id,
      [LABELS.service]: s.name,
      ...(envSecrets ? { [LABELS.secretEnv]: envSecrets } : {}),
    },
    command: s.command,
    args: s.args,
    env: { ...s.env, ...secretEnv },
    secrets: secretFiles.length ? secretFiles : undefined,
    volumes: s.volumes.map((v) => ({ name: v.name, target: v.target, readOnly: v.read_only })),
    binds: s.binds?.map((b) => {
      const [source, target, mode] = b.split(":");
      return { source, target, readOnly: mode === "ro" };
    }),
    capAdd: s.cap_add,
    healthcheck: s.health_check
      ? {
        test: ["CMD", ...s.health_check.cmd],
        intervalMs: ns(s.health_check.interval_s) || undefined,
        timeoutMs: ns(s.health_check.timeout_s) || undefined,
        retries: s.health_check.retries,
        startPeriodMs: ns(s.health_check.start_period_s) || undefined,
      }
      : undefined,
    limits: lim ? { nanoCpus: cpus(lim.cpus), memoryBytes: lim.memory_bytes } : undefined,
    reservations: res ? { nanoCpus: cpus(res.cpus), memoryBytes: res.memory_bytes } : undefined,
    stopGracePeriodMs: s.stop_grace_s === undefined ? undefined : ns(s.stop_grace_s),
    restart: {
      condition: s.restart.condition,
      maxAttempts: s.restart.max_attempts,
      delayMs: ns(s.restart.delay_s),
    },
    constraints: t.pin
      ? [...s.placement.constraints, pinConstraint(t.pin)]
      : s.placement.constraints,
    maxReplicasPerNode: s.placement.max_replicas_per_node,
    // The host network replaces every other (an admin-only option, lib/apps/policy.ts).
    networks: s.network_mode === "host" ? [{ target: "host" }] : [
      { target: t.networks.app, aliases: [s.name] },
      { target: t.networks.org, aliases: [`${s.name}.${t.app.name}`] },
    ],
    replicas: s.global ? undefined : s.replicas,
    global: s.global || undefined,
    update: {
      parallelism: s.update.parallelism,
      delayMs: ns(s.update.delay_s),
      order,
      failureAction: s.update.failure_action,
      monitorMs: ns(s.update.monitor_s),
      maxFailureRatio: s.update.max_failure_ratio,
    },
    // A failed rollback must not stop halfway: roll every task back, one at a time, old first.
    rollback: { parallelism: 1, order, failureAction: "continue", monitorMs: 5000 },
    ports: s.ports.map((p) => ({
      target: p.target,
      published: p.published,
      protocol: p.protocol,
      mode: p.mode,
    })),
    endpointMode: t.routingMesh ? "vip" : "dnsrr",
    forceUpdate: t.forceUpdate,
  };
}
