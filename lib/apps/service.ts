/**
 * Apps, as users act on them: create (and deploy), change the spec, deploy, roll back, start,
 * stop, restart, scale, delete; every action audited and answered at once — the work of a
 * deployment goes on in the background and reports on the app's realtime topic. Checks that can
 * be answered before anything starts are: the spec's rules (400 with fields), the caller's policy
 * (403 naming the field), published ports taken by another app (400), and capacity (507 when no
 * node has what a service reserves).
 */
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { PolicyCaller } from "../hosts/container_policy.ts";
import {
  Conflict,
  Forbidden,
  InsufficientCapacity,
  Invalid,
  invalidFields,
  invalidInput,
  NotFound,
} from "../errors.ts";
import { z } from "zod";
import { AppName, AppSpec, type AppSpecInput } from "./spec.ts";
import { policyProblems } from "./policy.ts";
import {
  type App,
  type AppStore,
  type Deployment,
  type QuotaGate,
  specUse,
  type Trigger,
} from "./store.ts";
import type { Cluster } from "./cluster.ts";
import { type Deployer, type DeployProgress, type DeploySecrets, taskPorts } from "./deployer.ts";
import { diffSpecs, type SpecDiff } from "./diff.ts";
import { LABELS, networkNames } from "./swarm_spec.ts";
import type { MigrationPolicy } from "./tables.ts";
import type { SwarmGateway } from "./gateway.ts";
import type { TaskContainers } from "./task_containers.ts";
import { pinsServices, usableNode } from "./placement.ts";
import type { ImageCleanup } from "./image_cleanup.ts";
import { followServiceLogs, type LiveServiceLogs } from "./service_logs.ts";
import type { SecretRotated } from "../secrets/events.ts";
// The `apps.stopped` event this service emits is declared there.
import type {} from "./events.ts";
import type { EventBus } from "../events.ts";

/** What the apps service needs. */
export interface AppsDeps {
  store: AppStore;
  cluster: Cluster;
  deployer: Deployer;
  audit: Pick<AuditLog, "run">;
  clock: Clock;
  log: Logger;
  /** Removes a named volume on a host (delete with volumes). */
  removeVolume(hostId: string, name: string): Promise<void>;
  /** How long a deleted app's networks are tried (tasks leave them a moment after). */
  networkRemoveTimeoutMs?: number;
  /** Where the containers of the app's tasks are recorded (for app metrics over time). */
  containers?: Pick<TaskContainers, "record">;
  /** Removes images only deployments older than the app's last N used (after one runs). */
  images?: ImageCleanup;
  /** The organization's secrets, to check the ones a spec names. */
  secrets?: Pick<DeploySecrets, "resolve">;
  /** Where `apps.stopped` goes (lib/apps/events.ts). */
  events?: Pick<EventBus, "emit">;
  /**
   * Quota admission (lib/quotas): the org's limits and blockers, read before the transaction
   * that records an intent; the store counts the org's use in that transaction and asks it.
   */
  admission?: { prepare(orgId: string): Promise<QuotaGate> };
}

/** Who acts: for the audit row and the trigger, with the role the policy judges. */
export interface AppCaller extends PolicyCaller {
  ctx: ActionContext;
}

/** A deployment with what changed against the one before it. */
export interface DeploymentWithDiff extends Deployment {
  diff: SpecDiff;
  previous_number: number | null;
}

function triggerOf(caller: AppCaller, kind: Trigger["kind"], from?: string): Trigger {
  const a = caller.ctx.actor;
  return {
    kind,
    actor_type: a.type === "token" ? "token" : a.type === "user" ? "user" : "system",
    actor_id: a.id ?? null,
    ...(from ? { from } : {}),
  };
}

/**
 * An app's priority: a whole number, higher = more important (default 0). A quota violation's
 * `stop_lowest_priority` action stops the lowest first (lib/enforcement).
 */
export const AppPriority = z.number({ error: "must be a whole number" }).int(
  "must be a whole number",
)
  .min(-1000, "must be at least -1000").max(1000, "must be at most 1000");

function parsePriority(v: unknown): number {
  const r = AppPriority.safeParse(v);
  if (!r.success) {
    throw new Invalid("Invalid input: priority", { priority: r.error.issues[0].message });
  }
  return r.data;
}

/** What one running app holds against its org's quotas (the enforcement's choice of apps). */
export interface RunningApp {
  app: App;
  cpu_millis: number;
  memory_bytes: number;
  /** The most replicas any of its replicated services runs. */
  replicas: number;
}

/** Parses a spec; field problems become one Invalid (400) with every field named. */
export function parseSpec(input: unknown): AppSpec {
  const r = AppSpec.safeParse(input);
  if (r.success) return r.data;
  throw invalidInput(r.error, "spec");
}

/** Creates the apps service. */
export function createApps(deps: AppsDeps) {
  const { store, cluster, deployer } = deps;
  const inFlight = new Set<Promise<unknown>>();
  const gate = async (orgId: string) => await deps.admission?.prepare(orgId);

  function assertWriteScope(caller: AppCaller) {
    if (caller.tokenScope === "read") {
      throw new Forbidden("This token has read scope; changing apps needs write scope");
    }
  }

  function assertPolicy(caller: AppCaller, spec: AppSpec) {
    assertWriteScope(caller);
    const problems = policyProblems(caller, spec);
    if (!problems.length) return;
    const fields = Object.fromEntries(problems.map((p) => [`spec.${p.path}`, p.message]));
    if (problems.some((p) => p.status === 400)) {
      throw invalidFields(fields);
    }
    throw new Forbidden(
      `Only organization admins may deploy apps with ${
        [...new Set(problems.map((p) => p.path.split(".").pop()))].join(", ")
      }`,
      fields,
    );
  }

  /** Published ports are the cluster's: one app each. */
  async function assertPortsFree(app: { id?: string; org_id: string }, spec: AppSpec) {
    const others = (await store.all()).filter((a) => a.id !== app.id);
    const fields: Record<string, string> = {};
    spec.services.forEach((s, i) =>
      s.ports.forEach((p, j) => {
        if (p.published === undefined) return;
        const holder = others.find((o) =>
          o.spec.services.some((os) =>
            os.ports.some((op) => op.published === p.published && op.protocol === p.protocol)
          )
        );
        if (holder) {
          const who = holder.org_id === app.org_id ? `app ${holder.name}` : "another app";
          fields[`spec.services.${i}.ports.${j}.published`] =
            `port ${p.published} is already published by ${who}`;
        }
      })
    );
    if (Object.keys(fields).length) {
      throw invalidFields(fields);
    }
  }

  /**
   * Ingress ports need Swarm's routing mesh, which needs IPVS in the manager's kernel: without it
   * such a port would never answer, so it is refused up front (400 naming the field) with the way
   * out. Before there is a cluster nothing is judged (the deploy answers 503 then).
   */
  async function assertPortsReachable(spec: AppSpec) {
    const info = await cluster.info();
    if (!info || info.routing_mesh) return;
    const fields: Record<string, string> = {};
    spec.services.forEach((s, i) =>
      s.ports.forEach((p, j) => {
        if (p.published === undefined || p.mode !== "ingress") return;
        fields[`spec.services.${i}.ports.${j}.mode`] =
          "this cluster has no routing mesh (its manager's kernel lacks IPVS): publish it in host mode";
      })
    );
    if (Object.keys(fields).length) {
      throw invalidFields(fields);
    }
  }

  /** 507 when a service reserves more than any schedulable node has free. */
  async function assertCapacity(gw: SwarmGateway, app: App | undefined, spec: AppSpec) {
    const nodes = await gw.nodes();
    const tasks = await gw.tasks({});
    const usable = nodes.filter((n) =>
      n.Spec.Availability === "active" && n.Status.State === "ready"
    );
    const mine = new Set<string>();
    if (app) { for (const s of await gw.services(`${LABELS.app}=${app.id}`)) mine.add(s.ID); }
    const free = usable.map((n) => {
      let cpu = n.Description.Resources.NanoCPUs;
      let mem = n.Description.Resources.MemoryBytes;
      for (const t of tasks) {
        // This app's own tasks are replaced by the deployment, so their room counts as free.
        if (t.NodeID !== n.ID || t.DesiredState !== "running" || mine.has(t.ServiceID)) continue;
        cpu -= t.Spec.Resources?.Reservations?.NanoCPUs ?? 0;
        mem -= t.Spec.Resources?.Reservations?.MemoryBytes ?? 0;
      }
      return { name: n.Description.Hostname, cpu, mem };
    });
    const fields: Record<string, string> = {};
    spec.services.forEach((s, i) => {
      const r = s.resources.reservations;
      if (!r) return;
      const cpu = r.cpus !== undefined ? Math.round(r.cpus * 1e9) : 0;
      const mem = r.memory_bytes ?? 0;
      if (free.some((f) => f.cpu >= cpu && f.mem >= mem)) return;
      const best = free.reduce((a, b) => (b.cpu > a.cpu ? b : a), free[0]);
      const bestMem = free.reduce((a, b) => (b.mem > a.mem ? b : a), free[0]);
      const lacks = free.every((f) => f.cpu < cpu)
        ? `no node has ${r.cpus} CPUs free (the most is ${
          best ? (best.cpu / 1e9).toFixed(2) : 0
        } on ${best?.name ?? "no node"})`
        : `no node has ${Math.round(mem / 2 ** 20)} MiB of memory free (the most is ${
          bestMem ? Math.round(bestMem.mem / 2 ** 20) : 0
        } MiB on ${bestMem?.name ?? "no node"})`;
      fields[`spec.services.${i}.resources.reservations`] = lacks;
    });
    if (Object.keys(fields).length) {
      throw new InsufficientCapacity(
        `The cluster has no room for this app: ${Object.values(fields).join("; ")}`,
        fields,
      );
    }
  }

  /** Keeps background work countable, so `idle()` can wait for it. */
  function track(p: Promise<unknown>) {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  }

  /**
   * Starts a deployment in the background; its progress goes to the app's topic. One that ends
   * running lets the images of deployments older than the last N go (never failing it).
   */
  function launch(app: App, d: Deployment, ctx?: ActionContext) {
    track(
      deployer.run(app, d).then(async (status) => {
        if (status === "running" && d.trigger.kind === "stop" && ctx) {
          deps.events?.emit("apps.stopped", {
            org_id: app.org_id,
            app_id: app.id,
            app: app.name,
            ctx,
          });
        }
        if (status === "running") await deps.images?.run(app);
      }).catch((e) =>
        deps.log.error("apps: deployment crashed", { app: app.id, error: String(e) })
      ),
    );
  }

  /** Removes networks once no task uses them any more (tried for up to a minute each). */
  async function removeNetworks(
    gw: SwarmGateway,
    names: string[],
    /** Asked before each try: false stops it (a new app of the organization needs the network). */
    stillUnused: (name: string) => Promise<boolean> = () => Promise.resolve(true),
  ) {
    for (const name of names) {
      const deadline = deps.clock.now() + (deps.networkRemoveTimeoutMs ?? 60_000);
      while (true) {
        if (!(await stillUnused(name))) break;
        try {
          await gw.removeNetwork(name);
          break;
        } catch (err) {
          if (deps.clock.now() > deadline) {
            deps.log.warn("apps: cannot remove a network", { network: name, error: String(err) });
            break;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  }

  /**
   * The secrets a spec names exist in the organization, and those given as environment
   * variables hold text (a binary value can only be a file): else 400 naming each reference.
   */
  async function assertSecrets(orgId: string, spec: AppSpec): Promise<void> {
    const refs = spec.services.flatMap((s, i) => s.secrets.map((r, j) => ({ r, i, j })));
    if (!refs.length) return;
    if (!deps.secrets) throw new Invalid("Secrets are not available here");
    const found = await deps.secrets.resolve(orgId, refs.map((x) => x.r.secret), {});
    const fields: Record<string, string> = {};
    for (const { r, i, j } of refs) {
      const at = `spec.services.${i}.secrets.${j}`;
      if (found.missing.includes(r.secret)) {
        fields[`${at}.secret`] = `no secret named ${r.secret} in this organization`;
      } else if (r.env !== undefined && found.secrets[r.secret]?.kind === "binary") {
        fields[`${at}.env`] = `${r.secret} holds binary data; mount it as a file`;
      }
    }
    if (Object.keys(fields).length) throw invalidFields(fields);
  }

  /** Records and launches a deployment after the checks that can be answered now. */
  async function deployNow(
    app: App,
    spec: AppSpec,
    trigger: Trigger,
    images?: Record<string, string>,
    pins?: Record<string, string>,
    secrets?: Deployment["secrets"],
    /** Who asked (a stop tells `apps.stopped` who, once it ended). */
    ctx?: ActionContext,
  ): Promise<Deployment> {
    const { gw } = await cluster.manager();
    await assertCapacity(gw, app, spec);
    const d = await store.startDeployment(app, { spec, trigger, images, pins, secrets });
    await store.event(app, "deploy", `Deployment #${d.number} started (${trigger.kind})`, {
      deployment_id: d.id,
    });
    launch(app, d, ctx);
    return d;
  }

  const audited = <T>(
    caller: AppCaller,
    action: string,
    app: { id?: string; name: string; org_id: string },
    metadata: Record<string, unknown>,
    fn: () => Promise<T>,
  ) =>
    deps.audit.run(caller.ctx, action, {
      orgId: app.org_id,
      target: { type: "app", id: app.id ?? null, name: app.name },
      metadata,
    }, fn);

  /**
   * What a deployment needs, checked before anything is saved: a cluster with a reachable
   * manager (503) and no deployment of this app in progress (409), so a refused action leaves
   * the app as it was. (The store checks the second again, atomically, when it records one.)
   */
  async function assertCanDeploy(app: App): Promise<void> {
    await cluster.manager();
    const [latest] = await store.deployments(app, { limit: 1 });
    if (latest && (latest.status === "pending" || latest.status === "deploying")) {
      throw new Conflict(
        `Cannot deploy app "${app.name}": deployment #${latest.number} is still in progress`,
        "deploy_in_progress",
      );
    }
  }

  /** The Swarm service of an app's service, on the manager's gateway (404 when it has none). */
  async function swarmServiceOf(app: App, service: string) {
    const { gw } = await cluster.manager();
    const s = (await gw.services(`${LABELS.app}=${app.id}`))
      .find((x) => x.Spec.Labels[LABELS.service] === service);
    if (!s) throw new NotFound(`No running service "${service}" in app "${app.name}"`);
    return { gw, id: s.ID };
  }

  async function current(app: App): Promise<Deployment | undefined> {
    return app.current_deployment_id
      ? await store.deployment(app, app.current_deployment_id)
      : undefined;
  }

  return {
    store,

    /**
     * Answers early whether a new app of `spec` fits the organization's quotas (a template
     * deploy, before it starts its work); `create` decides again in its transaction.
     */
    async assertQuota(orgId: string, spec: AppSpec): Promise<void> {
      const g = await gate(orgId);
      if (g) await store.precheck(orgId, spec, g);
    },

    /** The organization's use as its quotas count it (the quota page). */
    quotaUse: (orgId: string) => store.use(orgId),

    /** Creates an app and, unless `deploy` is false, its first deployment. */
    async create(
      caller: AppCaller,
      orgId: string,
      input: {
        name: string;
        spec: AppSpecInput;
        migration_policy?: MigrationPolicy;
        priority?: number;
        deploy?: boolean;
      },
    ): Promise<{ app: App; deployment: Deployment | null }> {
      const priority = input.priority === undefined ? undefined : parsePriority(input.priority);
      const name = AppName.safeParse(input.name);
      if (!name.success) {
        throw new Invalid("Invalid input: name", { name: name.error.issues[0].message });
      }
      const spec = parseSpec(input.spec);
      assertPolicy(caller, spec);
      await assertSecrets(orgId, spec);
      await assertPortsFree({ org_id: orgId }, spec);
      await assertPortsReachable(spec);
      return await audited(caller, "app.created", { name: input.name, org_id: orgId }, {
        services: spec.services.map((s) => ({ name: s.name, image: s.image })),
      }, async () => {
        if (input.deploy !== false) {
          const { gw } = await cluster.manager();
          await assertCapacity(gw, undefined, spec);
        }
        const app = await store.create(
          orgId,
          { name: input.name, spec, migration_policy: input.migration_policy, priority },
          caller.ctx.actor.id ?? null,
          await gate(orgId),
          input.deploy !== false,
        );
        await store.event(app, "app", `App created by ${caller.ctx.actor.name ?? "someone"}`);
        const deployment = input.deploy === false
          ? null
          : await deployNow(app, spec, triggerOf(caller, "create"));
        return { app, deployment };
      });
    },

    /**
     * Saves a new spec or settings; deploying a spec is a separate, explicit step. A migration
     * policy that pins services where they were not pinned (or the reverse) changes their Swarm
     * constraints, so it is deployed at once: the running configuration, images as they were.
     */
    async update(
      caller: AppCaller,
      app: App,
      patch: { spec?: AppSpecInput; migration_policy?: MigrationPolicy; priority?: number },
    ): Promise<App> {
      const spec = patch.spec === undefined ? undefined : parseSpec(patch.spec);
      const priority = patch.priority === undefined ? undefined : parsePriority(patch.priority);
      if (spec) {
        assertPolicy(caller, spec);
        await assertSecrets(app.org_id, spec);
        await assertPortsFree(app, spec);
        await assertPortsReachable(spec);
      }
      const policy = patch.migration_policy;
      const repin = policy !== undefined && app.current_deployment_id !== null &&
        pinsServices(policy) !== pinsServices(app.migration_policy);
      if (repin) {
        assertWriteScope(caller);
        await assertCanDeploy(app);
      }
      return await audited(caller, "app.updated", app, {
        spec_changed: Boolean(spec),
        migration_policy: policy,
        ...(priority !== undefined ? { priority } : {}),
        redeployed: repin,
      }, async () => {
        const saved = await store.update(
          app,
          { spec, migration_policy: policy, priority },
          spec ? await gate(app.org_id) : undefined,
        );
        if (!repin) return saved;
        const cur = (await current(saved))!;
        await deployNow(
          saved,
          cur.spec,
          triggerOf(caller, "policy"),
          cur.images,
          undefined,
          cur.secrets,
        );
        return saved;
      });
    },

    /**
     * Moves a service of an app with the manual policy to another node: a new deployment of the
     * running configuration pinned there. 400 names the field (`service`, `node`) that is not in
     * the app or the cluster; 409 when the policy does not allow moves, or the node cannot take
     * tasks now (down, paused, drained) or already has them.
     */
    async move(caller: AppCaller, app: App, service: string, node: string): Promise<Deployment> {
      assertWriteScope(caller);
      if (app.migration_policy !== "manual") {
        throw new Conflict(
          app.migration_policy === "none"
            ? `App "${app.name}" never moves (migration policy none); set it to manual to move it`
            : `Swarm places app "${app.name}" by itself (migration policy automatic); set it to manual to move it by hand`,
          "conflict",
          { migration_policy: "must be manual to move a service" },
        );
      }
      const cur = await current(app);
      if (!cur) throw new Conflict("This app has no running deployment to move");
      if (!cur.spec.services.some((s) => s.name === service)) {
        throw invalidFields({ service: `no service "${service}" in app "${app.name}"` });
      }
      const { gw } = await cluster.manager();
      const target = (await gw.nodes()).find((n) =>
        n.ID === node || n.Description.Hostname === node
      );
      if (!target) throw invalidFields({ node: `no node "${node}" in the cluster` });
      const name = target.Description.Hostname;
      if (!usableNode(target)) {
        throw new Conflict(
          `Cannot move ${service} to ${name}: the node is ${target.Status.State}, ${target.Spec.Availability}`,
          "conflict",
          { node: `${name} is not ready and active` },
        );
      }
      if (cur.pins[service] === target.ID) {
        throw new Conflict(`${service} already runs on ${name}`, "conflict", {
          node: `${service} is already pinned to ${name}`,
        });
      }
      return await audited(caller, "app.moved", app, { service, node: target.ID }, async () => {
        await assertCanDeploy(app);
        await store.event(app, "move", `${service} is moving to ${name}`, {
          service,
          node_id: target.ID,
        });
        return await deployNow(app, cur.spec, triggerOf(caller, "move"), cur.images, {
          ...cur.pins,
          [service]: target.ID,
        }, cur.secrets);
      });
    },

    /** Deploys the app's saved spec. */
    async deploy(caller: AppCaller, app: App): Promise<Deployment> {
      assertPolicy(caller, app.spec);
      return await audited(caller, "app.deployed", app, {}, async () => {
        await assertCanDeploy(app);
        // Admitted even when nothing changes: a blocked organization cannot deploy.
        app = await store.update(app, { desired_state: "running" }, await gate(app.org_id), true);
        return await deployNow(app, app.spec, triggerOf(caller, "deploy"));
      });
    },

    /** Deploys an earlier deployment's snapshot again (default: the one before the current). */
    async rollback(caller: AppCaller, app: App, to?: string): Promise<Deployment> {
      return await audited(caller, "app.rolled_back", app, { to: to ?? "previous" }, async () => {
        let target: Deployment | undefined;
        if (to) target = await store.deployment(app, to);
        else {
          const cur = await current(app);
          if (!cur) throw new Conflict("This app has no running deployment to roll back from");
          const earlier = await store.deployments(app, { before: cur.number, limit: 50 });
          target = earlier.find((d) => d.status === "superseded" || d.status === "running");
          if (!target) {
            throw new Conflict("There is no earlier deployment that ran to roll back to");
          }
        }
        if (target.id === app.current_deployment_id) {
          throw new Conflict(`Deployment #${target.number} is the one running now`);
        }
        assertPolicy(caller, target.spec);
        await assertCanDeploy(app);
        // The snapshot is deployed as it was: images pinned and secret versions as they were
        // (a purged version falls back to the current one, and the app's events say so); the
        // saved spec follows it.
        app = await store.update(
          app,
          { spec: target.spec, desired_state: "running" },
          await gate(app.org_id),
          true,
        );
        return await deployNow(
          app,
          target.spec,
          triggerOf(caller, "rollback", target.id),
          target.images,
          undefined,
          target.secrets,
        );
      });
    },

    /** Scales one service (a new deployment of the current spec with that many replicas). */
    async scale(
      caller: AppCaller,
      app: App,
      service: string,
      replicas: number,
    ): Promise<Deployment> {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) {
        throw new Invalid("Invalid input: replicas", { replicas: "must be a whole number 0–100" });
      }
      const base = (await current(app))?.spec ?? app.spec;
      const i = base.services.findIndex((s) => s.name === service);
      if (i < 0) throw new NotFound(`No service "${service}" in app "${app.name}"`);
      if (base.services[i].global) {
        throw new Invalid("Invalid input: replicas", {
          replicas: "a global service runs one task per node",
        });
      }
      const spec: AppSpec = {
        services: base.services.map((s, j) => j === i ? { ...s, replicas } : s),
      };
      return await audited(caller, "app.scaled", app, { service, replicas }, async () => {
        await assertCanDeploy(app);
        app = await store.update(app, { spec }, await gate(app.org_id));
        const cur = await current(app);
        return await deployNow(
          app,
          spec,
          triggerOf(caller, "scale"),
          cur?.images,
          undefined,
          cur?.secrets,
        );
      });
    },

    /** Stops the app: every replicated service scaled to 0 (config and volumes kept). */
    async stop(caller: AppCaller, app: App): Promise<Deployment> {
      return await audited(caller, "app.stopped", app, {}, async () => {
        await assertCanDeploy(app);
        app = await store.update(app, { desired_state: "stopped" });
        const cur = await current(app);
        return await deployNow(
          app,
          cur?.spec ?? app.spec,
          triggerOf(caller, "stop"),
          cur?.images,
          undefined,
          cur?.secrets,
          caller.ctx,
        );
      });
    },

    /**
     * The org's apps meant to run, with what each holds against the quotas (its saved spec, as
     * admission counts it), for the violation action's choice (lib/enforcement).
     */
    async running(orgId: string): Promise<RunningApp[]> {
      return (await store.ofOrg(orgId)).filter((a) => a.desired_state === "running").map((app) => ({
        app,
        ...specUse(app.spec),
        replicas: Math.max(0, ...app.spec.services.filter((x) => !x.global).map((x) => x.replicas)),
      }));
    },

    /**
     * Stops an app for a policy (a quota violation's or the wallet's action): the stop intent, as
     * `stop` records it, with the system as the actor and `reason` in the audit row. The write
     * that marks it stopped is conditional on it still running, so of two hub replicas taking the
     * same decision exactly one stops and audits it; the other gets false (and should re-read
     * before choosing more). A deployment in progress: false, nothing written (the next run
     * tries again).
     */
    async stopForPolicy(
      app: App,
      reason: string,
      metadata: Record<string, unknown> = {},
    ): Promise<boolean> {
      const ctx: ActionContext = { actor: { type: "system", id: "system", name: "system" } };
      // No manager reachable: throws before anything is written (the next run tries again).
      await cluster.manager();
      const [latest] = await store.deployments(app, { limit: 1 });
      if (latest && (latest.status === "pending" || latest.status === "deploying")) return false;
      if (!(await store.claimStop(app))) return false;
      // From here the intent is recorded and this replica owns the stop: a failure to start its
      // deployment is in the audit row (status error) and the log, and still counts as claimed.
      await audited(
        { ctx, role: "owner" },
        "app.stopped",
        app,
        { reason, ...metadata },
        async () => {
          const stopped = { ...app, desired_state: "stopped" as const };
          const cur = await current(stopped);
          await store.event(stopped, "app", `Stopped by the system: ${reason}`);
          return await deployNow(
            stopped,
            cur?.spec ?? app.spec,
            triggerOf({ ctx, role: "owner" }, "stop"),
            cur?.images,
            undefined,
            cur?.secrets,
            ctx,
          );
        },
      ).catch((err) =>
        deps.log.warn("apps: a policy stop was recorded but its deployment did not start", {
          app: app.id,
          error: String(err),
        })
      );
      return true;
    },

    /** Starts a stopped app again at its spec's replicas. */
    async start(caller: AppCaller, app: App): Promise<Deployment> {
      return await audited(caller, "app.started", app, {}, async () => {
        await assertCanDeploy(app);
        app = await store.update(app, { desired_state: "running" }, await gate(app.org_id), true);
        const cur = await current(app);
        return await deployNow(
          app,
          cur?.spec ?? app.spec,
          triggerOf(caller, "start"),
          cur?.images,
          undefined,
          cur?.secrets,
        );
      });
    },

    /** Restarts every task, rolling as the update policy says, without a new image. */
    async restart(caller: AppCaller, app: App): Promise<Deployment> {
      return await audited(caller, "app.restarted", app, {}, async () => {
        const cur = await current(app);
        if (!cur) throw new Conflict("This app has no running deployment to restart");
        // A restart replaces the tasks of what runs: its images and secret versions as they were.
        return await deployNow(
          app,
          cur.spec,
          triggerOf(caller, "restart"),
          cur.images,
          undefined,
          cur.secrets,
        );
      });
    },

    /**
     * Deploys what runs again with a rotated secret at its new version (every other secret and
     * image as it was): start-first and health-gated for "rolling", stop-first for "restart".
     */
    async redeployForSecret(app: App, cur: Deployment, e: SecretRotated): Promise<Deployment> {
      const ctx = e.ctx;
      return await deps.audit.run(ctx, "app.restarted", {
        orgId: app.org_id,
        target: { type: "app", id: app.id, name: app.name },
        metadata: {
          reason: "secret rotated",
          secret_name: e.name,
          version: e.version,
          mode: e.mode,
        },
      }, async () => {
        await assertCanDeploy(app);
        const { [e.name]: _rotated, ...others } = cur.secrets;
        const a = ctx.actor;
        return await deployNow(
          app,
          cur.spec,
          {
            kind: "secret",
            actor_type: a.type === "token" ? "token" : a.type === "user" ? "user" : "system",
            actor_id: a.id ?? null,
            secret: e.name,
            version: e.version,
            mode: e.mode === "restart" ? "restart" : "rolling",
          },
          cur.images,
          undefined,
          others,
        );
      });
    },

    /**
     * Deploys the image a build made for one service: the saved spec with that service's image
     * replaced (saved too, so the next deploy keeps it), every other image as it runs now; the
     * update is start-first and health-gated as the service's policy says, so a version that
     * fails its health check is rolled back and the one before keeps serving.
     */
    async deployBuild(
      ctx: ActionContext,
      app: App,
      build: NonNullable<Trigger["build"]>,
      image: string,
    ): Promise<Deployment> {
      return await deps.audit.run(ctx, "app.deployed", {
        orgId: app.org_id,
        target: { type: "app", id: app.id, name: app.name },
        metadata: { build: build.number, service: build.service, commit: build.commit, image },
      }, async () => {
        await assertCanDeploy(app);
        const spec: AppSpec = {
          ...app.spec,
          services: app.spec.services.map((s) => s.name === build.service ? { ...s, image } : s),
        };
        if (!spec.services.some((s) => s.name === build.service)) {
          throw new NotFound(`App "${app.name}" has no service "${build.service}" any more`);
        }
        app = await store.update(
          app,
          {
            spec,
            ...(app.desired_state === "stopped" ? { desired_state: "running" as const } : {}),
          },
          await gate(app.org_id),
          true,
        );
        const cur = await current(app);
        const { [build.service]: _built, ...others } = cur?.images ?? {};
        const a = ctx.actor;
        return await deployNow(
          app,
          spec,
          {
            kind: "build",
            actor_type: a.type === "token" ? "token" : a.type === "user" ? "user" : "system",
            actor_id: a.id ?? null,
            build,
          },
          cur ? others : undefined,
          undefined,
          cur?.secrets,
        );
      });
    },

    /** Deletes the app: its services and network, and its volumes when asked. */
    async remove(caller: AppCaller, app: App, opts: { volumes?: boolean } = {}): Promise<void> {
      await audited(caller, "app.deleted", app, { volumes: Boolean(opts.volumes) }, async () => {
        const { gw } = await cluster.manager();
        const services = await gw.services(`${LABELS.app}=${app.id}`);
        for (const s of services) await gw.remove(s.ID);
        if (opts.volumes) {
          // Tasks must be gone before their volumes can go.
          const deadline = deps.clock.now() + 60_000;
          while (
            (await gw.tasks({ label: [`${LABELS.app}=${app.id}`] })).some((t) =>
              t.Status.State === "running"
            ) && deps.clock.now() < deadline
          ) await new Promise((r) => setTimeout(r, 500));
          const names = new Set(app.spec.services.flatMap((s) => s.volumes.map((v) => v.name)));
          for (const m of await cluster.nodes()) {
            if (!m.host_id) continue;
            for (const n of names) {
              // Swarm removes a removed service's task containers a moment later; until then the
              // engine refuses their volumes (in use). Absent (404) counts as removed.
              for (;;) {
                const err = await deps.removeVolume(m.host_id, n).then(() => null, (e) => e);
                if (!err || (err as { status?: number }).status === 404) break;
                if (deps.clock.now() > deadline + 30_000) {
                  deps.log.warn("apps: a volume was not removed", {
                    volume: n,
                    error: String(err),
                  });
                  break;
                }
                await new Promise((r) => setTimeout(r, 500));
              }
            }
          }
        }
        await store.remove(app);
        // Task containers leave the networks a moment after their service is gone; until then the
        // engine refuses to remove them, so the networks go in the background, tried again.
        const nets = networkNames({ id: app.org_id }, app);
        const orgEmpty = async () => (await store.list(app.org_id, { limit: 1 })).total === 0;
        track(
          removeNetworks(
            gw,
            (await orgEmpty()) ? [nets.app, nets.org] : [nets.app],
            // The organization's network stays once another of its apps exists again.
            (name) => name === nets.org ? orgEmpty() : Promise.resolve(true),
          ),
        );
      });
    },

    /** A deployment with its diff against the one before it. */
    async deploymentWithDiff(app: App, ref: string): Promise<DeploymentWithDiff> {
      const d = await store.deployment(app, ref);
      const prev = await store.previous(d);
      return {
        ...d,
        diff: diffSpecs(prev?.spec, d.spec, { from: prev?.images, to: d.images }, {
          from: prev?.secrets,
          to: d.secrets,
        }),
        previous_number: prev?.number ?? null,
      };
    },

    /** What runs now: per service its Swarm service, tasks and their nodes. */
    async status(app: App) {
      const { gw } = await cluster.manager();
      const [services, nodes] = await Promise.all([
        gw.services(`${LABELS.app}=${app.id}`),
        cluster.nodes().catch(() => []),
      ]);
      const nodeName = new Map(nodes.map((n) => [n.node_id, n]));
      const out = [];
      const seen = [];
      for (const s of services) {
        const tasks = await gw.tasks({ service: [s.ID] });
        seen.push(...tasks);
        out.push({
          name: s.Spec.Labels[LABELS.service] ?? s.Spec.Name,
          swarm_name: s.Spec.Name,
          id: s.ID,
          image: s.Spec.TaskTemplate.ContainerSpec.Image,
          running: s.ServiceStatus?.RunningTasks ?? 0,
          desired: s.ServiceStatus?.DesiredTasks ?? 0,
          update: s.UpdateStatus?.State ?? null,
          ports: s.Endpoint?.Ports ?? [],
          tasks: tasks
            .filter((t) =>
              t.DesiredState === "running" || Date.parse(t.UpdatedAt) > Date.now() - 600_000
            )
            .sort((a, b) => b.UpdatedAt.localeCompare(a.UpdatedAt))
            .slice(0, 20)
            .map((t) => ({
              id: t.ID,
              slot: t.Slot ?? null,
              node_id: t.NodeID ?? null,
              node: t.NodeID ? nodeName.get(t.NodeID)?.hostname ?? null : null,
              host_id: t.NodeID ? nodeName.get(t.NodeID)?.host_id ?? null : null,
              state: t.Status.State,
              desired: t.DesiredState,
              error: t.Status.Err ?? null,
              container_id: t.Status.ContainerStatus?.ContainerID ?? null,
              ports: taskPorts(t),
              updated_at: t.UpdatedAt,
            })),
        });
      }
      // Best effort: the page must show what runs even when the record cannot be written.
      await deps.containers?.record(seen, new Map([[app.id, app.org_id]])).catch((err) =>
        deps.log.warn("apps: task containers not recorded", { app: app.id, error: String(err) })
      );
      return { services: out };
    },

    /** Log lines of one service's tasks (all replicas, with task and node on each line). */
    async logs(app: App, service: string, opts: { tail: number; follow: boolean }) {
      const { gw, id } = await swarmServiceOf(app, service);
      return gw.logs(id, opts);
    },

    /** Follows one service's logs live (every task, labelled with task and node). */
    async followLogs(app: App, service: string, tail: number): Promise<LiveServiceLogs> {
      const { gw, id } = await swarmServiceOf(app, service);
      return followServiceLogs(gw, id, service, tail);
    },

    /** The network names of an app (for the pages). */
    networks: (app: App) => networkNames({ id: app.org_id }, app),

    /** Resolves when every deployment and clean-up started in this process has ended. */
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

export type Apps = ReturnType<typeof createApps>;
export type { DeployProgress };
