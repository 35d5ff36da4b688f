/**
 * Runs a deployment: pins each service's image, makes sure the organization's and the app's
 * overlay networks exist, creates or updates the Swarm services in dependency order (updates roll
 * start-first and health-gated, as the spec's update policy says), removes services the spec no
 * longer has, and watches Swarm until every service converged, Swarm rolled an update back, or the
 * time ran out. Progress goes to the app's realtime topic as Swarm reports it; the outcome lands
 * on the deployment with the reason in words (the failing task's error and its last log lines).
 */
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import type { App, AppStore, Deployment } from "./store.ts";
import { ensureAppNetworks, type SwarmGateway } from "./gateway.ts";
import { type ServiceSpec, startOrder } from "./spec.ts";
import { LABELS, type ResolvedSecret, swarmSecretName, toSwarmService } from "./swarm_spec.ts";
import type { DeployedSecret } from "./store.ts";
import { resolvePins } from "./placement.ts";
import type { DeploymentStatus } from "./tables.ts";
import { base64 } from "../util/ids.ts";

/** What the cluster offers a deployment. */
export interface ClusterInfo {
  routingMesh: boolean;
  encryptedNetworks: boolean;
}

/** One progress report on the app's topic. */
export interface DeployProgress {
  app_id: string;
  deployment_id: string;
  number: number;
  status: DeploymentStatus;
  /** Per service: tasks running of desired, and what Swarm says of the newest tasks. */
  services?: { name: string; running: number; desired: number; tasks: TaskView[] }[];
  message?: string;
}

/** A task as the app page shows it. */
export interface TaskView {
  id: string;
  slot?: number;
  node_id?: string;
  state: string;
  desired: string;
  error?: string;
  updated_at: string;
  /** Host-mode ports: where the task answers on its node (Swarm fills them once it runs). */
  ports: TaskPort[];
}

/** A published port of a task. */
export interface TaskPort {
  target: number;
  published: number;
  protocol: string;
}

/**
 * The host-mode ports Swarm reports for a task, one per container port. The engine may bind a
 * port on IPv4 and IPv6 with different numbers and Swarm lists both, IPv4's first (as the
 * container's port bindings do); the IPv6 one dialled on a node's IPv4 address can be another
 * app's, so only the first is kept.
 */
export function taskPorts(t: SwarmTask): TaskPort[] {
  const seen = new Set<string>();
  const out: TaskPort[] = [];
  for (const p of t.Status.PortStatus?.Ports ?? []) {
    const port = {
      target: p.TargetPort ?? 0,
      published: p.PublishedPort ?? 0,
      protocol: p.Protocol ?? "tcp",
    };
    const key = `${port.target}/${port.protocol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(port);
  }
  return out;
}

/** Where a deployment gets its secrets (the secrets module). */
export interface DeploySecrets {
  /** Versions by name: `pinned` ones while they exist (else current, named in `purged`). */
  resolve(orgId: string, names: string[], pinned: Record<string, number>): Promise<{
    secrets: Record<string, { id: string; version: number; kind: "text" | "binary" }>;
    missing: string[];
    purged: { name: string; version: number; using: number }[];
  }>;
  /** A version's value (fails closed naming the secret when it cannot be decrypted). */
  material(orgId: string, name: string, version: number): Promise<{ value: Uint8Array }>;
  /** A deployment gave a version to an app (audited, on the secret's trail). */
  recordUse?(
    orgId: string,
    name: string,
    use: { version: number; app: string; app_id: string; deployment: number },
  ): Promise<void>;
}

/** What the deployer needs. */
export interface DeployerDeps {
  store: AppStore;
  clock: Clock;
  log: Logger;
  /** The cluster's manager gateway and what the cluster offers; throws Unavailable without one. */
  cluster(): Promise<{ gw: SwarmGateway; info: ClusterInfo }>;
  orgSlug(orgId: string): Promise<string>;
  progress(app: App, p: DeployProgress): void;
  /** A deployment ended (running, failed, rolled back). */
  finished?(app: App, d: Deployment, status: DeploymentStatus, reason: string | null): void;
  /** Secrets for services that name them; without it such a deployment fails. */
  secrets?: DeploySecrets;
  /** How long a deployment may take to converge; how often Swarm is asked. */
  timeoutMs?: number;
  pollMs?: number;
}

const TERMINAL_TASK = new Set(["failed", "rejected", "orphaned"]);
/** Task states of a container that is (or is about to be) alive. */
const LIVE = new Set([
  "new",
  "pending",
  "assigned",
  "accepted",
  "ready",
  "preparing",
  "starting",
  "running",
]);

/** Whether a task ended badly: failed, rejected, stopped with an error, or exited on its own. */
function failedState(t: SwarmTask): boolean {
  return TERMINAL_TASK.has(t.Status.State) ||
    (t.Status.State === "shutdown" && Boolean(t.Status.Err)) ||
    (t.Status.State === "complete" && t.DesiredState !== "shutdown");
}

/** Keys sorted at every level, so two engine-written objects compare by content. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * Whether a task runs a service's present template. A task's spec is the template copied when
 * the task was made; the engine adds `Runtime` to the service's copy only. Swarm keeps a task
 * whose template changed only in its placement when its node still fits (it is not replaced, so
 * its copy keeps the old placement): such a task counts when its node (`nodeId`) meets the
 * template's `node.id` constraints — a pin to another node (a move) is not met until replaced.
 */
export function sameTemplate(task: unknown, template: unknown, nodeId?: string): boolean {
  const strip = (x: unknown, placement: boolean) => {
    const { Runtime: _r, Placement: p, ...rest } = (x ?? {}) as Record<string, unknown>;
    return JSON.stringify(canonical(placement ? { ...rest, Placement: p } : rest));
  };
  if (strip(task, true) === strip(template, true)) return true;
  if (strip(task, false) !== strip(template, false)) return false;
  const constraints =
    ((template as { Placement?: { Constraints?: string[] } })?.Placement?.Constraints) ?? [];
  return constraints.every((c) => {
    const m = /^node\.id\s*(==|!=)\s*(\S+)$/.exec(c);
    if (!m) return true;
    return m[1] === "==" ? m[2] === nodeId : m[2] !== nodeId;
  });
}

/** Words for a task's failure: its error, or its state and message. */
export function taskProblem(t: SwarmTask): string {
  const err = t.Status.Err || t.Status.Message || t.Status.State;
  const exit = t.Status.ContainerStatus?.ExitCode;
  return exit !== undefined && exit !== 0 && !/exit/.test(err) ? `${err} (exit code ${exit})` : err;
}

/** Swarm's "no suitable node (insufficient resources on 2 nodes)" in words naming the resource. */
export function schedulingProblem(msg: string): string | undefined {
  const m = /no suitable node \(([^)]*)\)/.exec(msg);
  if (!m) return undefined;
  const why = m[1];
  if (/insufficient resources/.test(why)) {
    return `no node has the CPU or memory this service reserves (${why})`;
  }
  if (/scheduling constraints/.test(why)) {
    return `no node matches the placement constraints (${why})`;
  }
  if (/host-mode port/.test(why)) return `the published host port is taken on every node (${why})`;
  return `no node can run it (${why})`;
}

function taskView(t: SwarmTask): TaskView {
  return {
    id: t.ID,
    slot: t.Slot,
    node_id: t.NodeID || undefined,
    state: t.Status.State,
    desired: t.DesiredState,
    error: t.Status.Err || undefined,
    updated_at: t.UpdatedAt,
    ports: taskPorts(t),
  };
}

/** A secret's value as text and base64: the forms a log line may show it in. */
function maskForms(value: Uint8Array): string[] {
  return [new TextDecoder().decode(value), base64(value)];
}

/** `text` with every secret value in it replaced by `[secret]`. */
export function masked(text: string | undefined, masks: string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const m of masks) if (m) out = out.split(m).join("[secret]");
  return out;
}

/** Creates the deployer. */
export function createDeployer(deps: DeployerDeps) {
  const timeoutMs = deps.timeoutMs ?? 5 * 60_000;
  const pollMs = deps.pollMs ?? 500;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** The pinned image of each service: a repo digest, else the local image id, else the tag. */
  async function pinImages(
    gw: SwarmGateway,
    d: Deployment,
  ): Promise<Record<string, string>> {
    const out: Record<string, string> = { ...d.images };
    for (const s of d.spec.services) {
      if (out[s.name]) continue;
      const local = await gw.image(s.image);
      // A repo digest pins across nodes; a local image id pins on nodes that have the image
      // (registry-less installs copy it); without either Swarm resolves the tag itself.
      out[s.name] = local?.repo_digests.find((r) => r.startsWith(s.image.split(":")[0] + "@")) ??
        local?.id ?? s.image;
    }
    return out;
  }

  /** The last log lines of a task (for a failure's reason); empty when they cannot be read. */
  async function lastLines(gw: SwarmGateway, serviceId: string, taskId: string): Promise<string[]> {
    const lines: string[] = [];
    const s = gw.logs(serviceId, { tail: 50, follow: false });
    try {
      for await (const batch of s) {
        for (const l of batch) if (l.taskId === taskId) lines.push(l.line);
      }
    } catch {
      return lines;
    }
    return lines.slice(-5);
  }

  /**
   * The secrets the deployment's services name, as Swarm secrets (one per secret version, made
   * once) and, for environment injection, as text. The versions are recorded on the deployment
   * before any Swarm secret is made, so a prune never takes one a deployment is about to use.
   */
  async function provideSecrets(
    gw: SwarmGateway,
    app: App,
    d: Deployment,
  ): Promise<
    {
      resolved: Record<string, ResolvedSecret>;
      used: Record<string, DeployedSecret>;
      masks: string[];
    }
  > {
    const refs = d.spec.services.flatMap((s) => s.secrets);
    if (!refs.length) return { resolved: {}, used: {}, masks: [] };
    if (!deps.secrets) throw new Error("secrets are not available to deployments here");
    const names = [...new Set(refs.map((r) => r.secret))];
    const pinned = Object.fromEntries(Object.entries(d.secrets).map(([n, s]) => [n, s.version]));
    const r = await deps.secrets.resolve(app.org_id, names, pinned);
    if (r.missing.length) {
      throw new Error(
        `secret${r.missing.length > 1 ? "s" : ""} ${
          r.missing.join(", ")
        } not found in this organization`,
      );
    }
    for (const p of r.purged) {
      await deps.store.event(
        app,
        "deploy",
        `Deployment #${d.number}: secret ${p.name} version ${p.version} was purged; version ${p.using} is used instead`,
        { deployment_id: d.id, secret: p.name },
      );
    }
    const used = Object.fromEntries(
      Object.entries(r.secrets).map(([n, s]) => [n, { id: s.id, version: s.version }]),
    );
    await deps.store.setSecrets(d, used);
    for (const [name, s] of Object.entries(r.secrets)) {
      await deps.secrets.recordUse?.(app.org_id, name, {
        version: s.version,
        app: app.name,
        app_id: app.id,
        deployment: d.number,
      });
    }
    const asEnv = new Set(refs.filter((x) => x.env !== undefined).map((x) => x.secret));
    const resolved: Record<string, ResolvedSecret> = {};
    const masks: string[] = [];
    for (const [name, s] of Object.entries(r.secrets)) {
      if (asEnv.has(name) && s.kind !== "text") {
        throw new Error(`secret ${name} is binary and cannot be an environment variable`);
      }
      const { value } = await deps.secrets.material(app.org_id, name, s.version);
      if (s.kind === "text" && value.length >= 4) masks.push(...maskForms(value));
      try {
        const swarmName = swarmSecretName(s.id, s.version);
        const made = await gw.ensureSecret(swarmName, {
          [LABELS.org]: app.org_id,
          [LABELS.secret]: s.id,
          [LABELS.secretVersion]: String(s.version),
        }, value);
        resolved[name] = {
          swarmId: made.id,
          swarmName,
          text: asEnv.has(name) ? new TextDecoder().decode(value) : undefined,
        };
      } finally {
        value.fill(0);
      }
    }
    return { resolved, used, masks };
  }

  /** Removes the organization's Swarm secrets no service and no deployment in progress uses. */
  async function pruneSecrets(gw: SwarmGateway, orgId: string): Promise<void> {
    try {
      const keep = await deps.store.secretsInProgress(orgId);
      await gw.pruneSecrets(orgId, keep.map((s) => swarmSecretName(s.id, s.version)));
    } catch (err) {
      deps.log.warn("apps: unused Swarm secrets not removed", { org: orgId, error: String(err) });
    }
  }

  interface Watched {
    spec: ServiceSpec;
    id: string;
    /** Updates are judged by Swarm's update status; creates by their tasks. */
    updated: boolean;
    since: number;
  }

  /** Where one service stands: converging, done, rolled back or failed (with why). */
  async function judge(
    gw: SwarmGateway,
    w: Watched,
  ): Promise<
    {
      state: "converging" | "done" | "rolled_back" | "failed";
      reason?: string;
      view: { name: string; running: number; desired: number; tasks: TaskView[] };
    }
  > {
    const [svc, tasks] = await Promise.all([gw.inspect(w.id), gw.tasks({ service: [w.id] })]);
    const desired = "Replicated" in svc.Spec.Mode
      ? svc.Spec.Mode.Replicated.Replicas
      : svc.ServiceStatus?.DesiredTasks ?? 0;
    const current = tasks.filter((t) => t.DesiredState === "running");
    // Right after an update Swarm may not have begun rolling yet: only tasks of the service's
    // present template count, so the old version's tasks never make a new one look converged.
    const upToDate = current.filter((t) => sameTemplate(t.Spec, svc.Spec.TaskTemplate, t.NodeID));
    const running = upToDate.filter((t) => t.Status.State === "running").length;
    const newest = [...tasks].sort((a, b) => b.UpdatedAt.localeCompare(a.UpdatedAt)).slice(0, 8);
    const view = { name: w.spec.name, running, desired, tasks: newest.map(taskView) };
    const u = svc.UpdateStatus;
    const fresh = u?.StartedAt && Date.parse(u.StartedAt) >= w.since - 2000;
    const recent = (t: SwarmTask) => Date.parse(t.UpdatedAt) >= w.since - 2000;
    const failedTask = newest.find((t) => recent(t) && failedState(t));
    const why = async () => {
      if (!failedTask) return u?.Message ?? "Swarm stopped the update";
      const lines = await lastLines(gw, w.id, failedTask.ID);
      return `service ${w.spec.name}: ${taskProblem(failedTask)}` +
        (lines.length ? `; last log lines: ${lines.join(" | ")}` : "");
    };
    if (w.updated && fresh && u) {
      if (u.State === "rollback_completed") {
        return { state: "rolled_back", reason: await why(), view };
      }
      if (u.State.startsWith("rollback")) return { state: "converging", view };
      if (u.State === "paused") return { state: "failed", reason: await why(), view };
      if (u.State === "updating") return { state: "converging", view };
    }
    if (running === desired && current.length === desired) {
      // Tasks told to stop (scaled away, replaced) must have stopped too, unless their node is
      // down and cannot say so.
      const stopping = tasks.filter((t) =>
        t.DesiredState !== "running" && LIVE.has(t.Status.State)
      );
      if (!stopping.length) return { state: "done", view };
      const down = new Set(
        (await gw.nodes()).filter((n) => n.Status.State !== "ready").map((n) => n.ID),
      );
      if (stopping.every((t) => t.NodeID && down.has(t.NodeID))) return { state: "done", view };
    }
    const pending = current.find((t) => t.Status.State === "pending" && t.Status.Err);
    const unschedulable = pending && schedulingProblem(pending.Status.Err ?? "");
    if (unschedulable) {
      return { state: "failed", reason: `service ${w.spec.name}: ${unschedulable}`, view };
    }
    // A new service (nothing to roll back to) that keeps failing: three failed tasks decide.
    const failures = tasks.filter((t) => recent(t) && failedState(t));
    if (!w.updated && failures.length >= 3) return { state: "failed", reason: await why(), view };
    return { state: "converging", view };
  }

  /** Where the deployment pins each service (empty for the automatic migration policy). */
  async function pinServices(
    gw: SwarmGateway,
    app: App,
    d: Deployment,
    existing: Map<string, SwarmService>,
  ): Promise<Record<string, string>> {
    if (app.migration_policy === "automatic") return {};
    const current = app.current_deployment_id && app.current_deployment_id !== d.id
      ? await deps.store.deployment(app, app.current_deployment_id).catch(() => undefined)
      : undefined;
    const [nodes, tasks] = await Promise.all([gw.nodes(), gw.tasks({})]);
    return resolvePins({
      policy: app.migration_policy,
      services: d.spec.services.map((s) => s.name),
      asked: d.pins,
      current: current?.pins ?? {},
      existing,
      nodes,
      tasks,
    });
  }

  /** Whether a service's running tasks are on another node than the one it is pinned to now. */
  async function moving(gw: SwarmGateway, old: SwarmService | undefined, pin: string | undefined) {
    if (!old || !pin) return false;
    const tasks = await gw.tasks({ service: [old.ID] });
    return tasks.some((t) => t.DesiredState === "running" && t.NodeID && t.NodeID !== pin);
  }

  async function finish(
    app: App,
    d: Deployment,
    status: DeploymentStatus,
    reason: string | null,
    images?: Record<string, string>,
    pins?: Record<string, string>,
  ) {
    await deps.store.setStatus(d, status, { reason, images, pins });
    const words = status === "running"
      ? `Deployment #${d.number} is running`
      : status === "rolled_back"
      ? `Deployment #${d.number} failed and was rolled back: ${reason}`
      : `Deployment #${d.number} failed: ${reason}`;
    await deps.store.event(app, "deploy", words, { deployment_id: d.id, status });
    deps.progress(app, {
      app_id: app.id,
      deployment_id: d.id,
      number: d.number,
      status,
      message: words,
    });
    deps.finished?.(app, d, status, reason);
    if (d.spec.services.some((s) => s.secrets.length) || status === "running") {
      void deps.cluster().then(({ gw }) => pruneSecrets(gw, app.org_id)).catch(() => {});
    }
  }

  /** Runs a pending deployment to its end; never throws (failures end the deployment). */
  async function run(app: App, d: Deployment): Promise<DeploymentStatus> {
    // A failing task's last log lines become the deployment's reason: a secret value the app
    // printed must not (the values of this deployment's text secrets are masked).
    let masks: string[] = [];
    let images: Record<string, string> | undefined;
    let pins: Record<string, string> | undefined;
    try {
      await deps.store.setStatus(d, "deploying");
      deps.progress(app, {
        app_id: app.id,
        deployment_id: d.id,
        number: d.number,
        status: "deploying",
      });
      const { gw, info } = await deps.cluster();
      images = await pinImages(gw, d);
      const org = { id: app.org_id, slug: await deps.orgSlug(app.org_id) };
      const nets = await ensureAppNetworks(gw, org, app, info.encryptedNetworks);
      const existing = new Map<string, SwarmService>();
      for (const s of await gw.services(`${LABELS.app}=${app.id}`)) {
        existing.set(s.Spec.Labels[LABELS.service] ?? "", s);
      }
      pins = await pinServices(gw, app, d, existing);
      const provided = await provideSecrets(gw, app, d);
      const secrets = provided.resolved;
      masks = provided.masks;
      const stopped = app.desired_state === "stopped";
      const watched: Watched[] = [];
      for (const s of startOrder(d.spec.services)) {
        const old = existing.get(s.name);
        const spec = toSwarmService(stopped && !s.global ? { ...s, replicas: 0 } : s, {
          org,
          app,
          deploymentId: d.id,
          networks: nets,
          routingMesh: info.routingMesh,
          images,
          pin: pins[s.name],
          moving: await moving(gw, old, pins[s.name]),
          secrets,
          // "Restart now" rotations: the old task stops before the new one starts.
          stopFirst: d.trigger.kind === "secret" && d.trigger.mode === "restart",
          // A restart replaces every task without a spec change: Swarm's counter goes up by one.
          // Otherwise it keeps its value (any change to it would restart the tasks too).
          forceUpdate: (old?.Spec.TaskTemplate.ForceUpdate ?? 0) +
            (d.trigger.kind === "restart" && old ? 1 : 0),
        });
        const since = deps.clock.now();
        // The organization's network can be removed under us (its last other app was deleted a
        // moment ago and its network goes in the background): make it again and try once more.
        const write = async () => {
          if (old) await gw.update(old.ID, spec);
          return old?.ID ?? (await gw.create(spec)).id;
        };
        let id: string | undefined;
        for (let attempt = 1; id === undefined; attempt++) {
          try {
            id = await write();
          } catch (err) {
            // The engine may still list a network it is removing: wait until it is gone, then
            // it is made again.
            if (!/network \S+ not found/.test(String(err)) || attempt >= 20) throw err;
            await sleep(500);
            await ensureAppNetworks(gw, org, app, info.encryptedNetworks);
          }
        }
        const w = { spec: s, id, updated: Boolean(old), since };
        watched.push(w);
        // A service others depend on must be up before they start.
        if (d.spec.services.some((o) => o.depends_on.includes(s.name))) {
          const r = await converge(app, d, [w]);
          if (r.state !== "done") {
            return await end(app, d, r.state, masked(r.reason, masks), images, pins);
          }
        }
      }
      const keep = new Set(d.spec.services.map((s) => s.name));
      for (const [name, s] of existing) if (!keep.has(name)) await gw.remove(s.ID);
      const r = await converge(app, d, watched);
      return await end(app, d, r.state, masked(r.reason, masks), images, pins);
    } catch (err) {
      const reason = masked(err instanceof Error ? err.message : String(err), masks)!;
      deps.log.warn("apps: deployment failed", { app: app.id, deployment: d.id, error: reason });
      await finish(app, d, "failed", reason, images, pins).catch((e) =>
        deps.log.error("apps: cannot record a failed deployment", { error: String(e) })
      );
      return "failed";
    }
  }

  async function end(
    app: App,
    d: Deployment,
    state: "done" | "rolled_back" | "failed" | "converging",
    reason: string | undefined,
    images: Record<string, string> | undefined,
    pins: Record<string, string> | undefined,
  ): Promise<DeploymentStatus> {
    const status: DeploymentStatus = state === "done"
      ? "running"
      : state === "rolled_back"
      ? "rolled_back"
      : "failed";
    await finish(
      app,
      d,
      status,
      state === "converging" ? `not converged within ${timeoutMs / 1000} s` : reason ?? null,
      images,
      pins,
    );
    return status;
  }

  /** Polls the services until all are done, one rolled back or failed, or the time is up. */
  async function converge(app: App, d: Deployment, watched: Watched[]) {
    const { gw } = await deps.cluster();
    const deadline = deps.clock.now() + timeoutMs;
    let last = "";
    while (true) {
      const results = await Promise.all(watched.map((w) => judge(gw, w)));
      const progress = JSON.stringify(results.map((r) => r.view));
      if (progress !== last) {
        last = progress;
        deps.progress(app, {
          app_id: app.id,
          deployment_id: d.id,
          number: d.number,
          status: "deploying",
          services: results.map((r) => r.view),
        });
      }
      const bad = results.find((r) => r.state === "rolled_back" || r.state === "failed");
      if (bad) return { state: bad.state, reason: bad.reason };
      if (results.every((r) => r.state === "done")) return { state: "done" as const };
      if (deps.clock.now() > deadline) return { state: "converging" as const };
      await sleep(pollMs);
    }
  }

  return { run, pinImages, pruneSecrets };
}

export type Deployer = ReturnType<typeof createDeployer>;
