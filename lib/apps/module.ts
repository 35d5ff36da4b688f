/**
 * The apps feature: apps on the Docker Swarm made of Capstan's hosts — the cluster (create or
 * adopt, join, drain, leave), apps and their immutable deployments, the deployer that converges
 * them, the reconciler job that keeps records and Swarm in step, and the apps' metrics (their
 * task containers' series summed, replaced containers included).
 */
import { defineModule } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Orgs } from "../orgs/service.ts";
import type { Metrics } from "../metrics/service.ts";
import { createAppStore } from "./store.ts";
import { type Cluster, createCluster } from "./cluster.ts";
import { createDeployer, type DeployProgress } from "./deployer.ts";
import type { App } from "./store.ts";
import { createReconciler, type Reconciler, reconcilerJob } from "./reconciler.ts";
import { type Apps, createApps } from "./service.ts";
import * as appsMigration from "./migration.ts";
import * as taskContainersMigration from "./migration_task_containers.ts";
import { appTopic } from "./topics.ts";
import { announceMoves } from "./events.ts";
import { createTaskContainers } from "./task_containers.ts";
import { LABELS } from "./swarm_spec.ts";
import { type AppMetricsReader, createAppMetrics } from "./metrics.ts";
import * as pinsMigration from "./migration_pins.ts";
import * as secretsMigration from "./migration_secrets.ts";
import * as priorityMigration from "./migration_priority.ts";
import { clusterImageCleanup } from "./image_cleanup.ts";
import type { Secrets } from "../secrets/service.ts";
import { appSecretConsumer, restartForRotation } from "./secret_uses.ts";
import type { Admission } from "../quotas/service.ts";

export const appsModule = defineModule<
  { apps: Apps; cluster: Cluster; reconciler: Reconciler; appMetrics: AppMetricsReader },
  {
    audit: AuditLog;
    agents: AgentRegistry;
    orgs: Orgs;
    metrics: Metrics;
    secrets: Secrets;
    quotaAdmission: Admission;
  }
>({
  name: "apps",
  deps: ["audit", "agents", "orgs", "metrics", "secrets", "quotaAdmission"],
  services: (core, { audit, agents, orgs, metrics, secrets, quotaAdmission }) => {
    const { db, clock, log } = core;
    const store = createAppStore(db, clock);
    const containers = createTaskContainers(db, clock);
    const cluster = createCluster({
      db,
      clock,
      log,
      audit,
      agent: (hostId) => agents.require(hostId),
      isOnline: (hostId) => agents.isOnline(hostId),
    });
    const manager = async () => {
      const m = await cluster.manager();
      return { gw: m.gw, info: m.info };
    };
    const orgSlug = async (orgId: string) => (await orgs.byId(orgId))?.slug ?? orgId.slice(-8);
    // What runs where, per app, as the deployer last reported it: routes follow every change
    // during a deployment (a start-first update stops the old tasks before it ends).
    const runningNow = new Map<string, string>();
    const tasksChanged = (app: App, p: DeployProgress) => {
      if (!p.services) return;
      const running = p.services.flatMap((s) =>
        s.tasks.filter((t) => t.state === "running").map((t) =>
          `${t.id}:${t.ports.map((x) => x.published).join(",")}`
        )
      ).sort().join(" ");
      if (runningNow.get(app.id) === running) return;
      runningNow.set(app.id, running);
      core.events.emit("app.changed", {
        org_id: app.org_id,
        app_id: app.id,
        app: app.name,
        reason: "tasks_changed",
      });
    };
    const deployer = createDeployer({
      store,
      clock,
      log,
      cluster: manager,
      orgSlug,
      secrets,
      progress: (app, p) => {
        void core.realtime.publish(appTopic(app.org_id, app.id), p);
        tasksChanged(app, p);
      },
      // The containers a deployment started and stopped, recorded as it ends (the reconciler
      // would see them within a minute; a container replaced again sooner would be missed).
      finished: (app) => {
        runningNow.delete(app.id);
        core.events.emit("app.changed", {
          org_id: app.org_id,
          app_id: app.id,
          app: app.name,
          reason: "deployed",
        });
        void manager().then(({ gw }) => gw.tasks({ label: [`${LABELS.app}=${app.id}`] }))
          .then((tasks) => containers.record(tasks, new Map([[app.id, app.org_id]])))
          .catch((err) =>
            log.warn("apps: task containers not recorded", { app: app.id, error: String(err) })
          );
      },
    });
    const reconciler = createReconciler({
      store,
      cluster: manager,
      orgSlug,
      clock,
      log,
      containers,
      moved: announceMoves(core),
    });
    const apps = createApps({
      store,
      cluster,
      deployer,
      audit,
      clock,
      log,
      containers,
      images: clusterImageCleanup({
        store,
        log,
        keep: core.config.appsKeepImages,
        cluster,
        agent: (hostId) => agents.require(hostId),
      }),
      removeVolume: async (hostId, name) => {
        await agents.require(hostId).call("volume.remove", { name, force: false });
      },
      secrets,
      events: core.events,
      admission: quotaAdmission,
    });
    // The secrets module asks which apps use a secret; a rotation restarts them as it says.
    secrets.consumers.register(appSecretConsumer(store));
    core.events.on("secret.rotated", async (e) => {
      const restarts = await restartForRotation({
        store,
        log,
        redeploy: (app, cur) => apps.redeployForSecret(app, cur, e),
      }, e);
      if (!restarts.length) return;
      const done = restarts.filter((r) => r.deployment_number !== undefined);
      const skipped = restarts.filter((r) => r.skipped);
      const words = [
        done.length
          ? `${e.mode === "restart" ? "Restarted" : "Rolling restart of"} ${
            done.map((r) => `${r.app} (deployment #${r.deployment_number})`).join(", ")
          }`
          : "",
        ...skipped.map((r) => `${r.app} ${r.skipped}`),
      ].filter(Boolean).join("; ");
      await secrets.note(e.org_id, e.name, {
        kind: "restarted",
        version: e.version,
        actor_name: e.ctx.actor.name ?? null,
        message: words,
        data: { mode: e.mode, apps: restarts },
      });
      // The owners hear of it through the alerts module (one message per app).
      core.events.emit("apps.secret_restarts", {
        org_id: e.org_id,
        secret: { id: e.secret_id, name: e.name },
        version: e.version,
        mode: e.mode,
        actor_name: e.ctx.actor.name ?? e.ctx.actor.type,
        apps: restarts.map((r) => ({
          id: r.app_id,
          name: r.app,
          deployment_number: r.deployment_number,
          skipped: r.skipped,
        })),
      });
    });
    const appMetrics = createAppMetrics({
      containers,
      query: metrics.query,
      latest: metrics.overview,
      clock,
    });
    // The quota page shows what the apps hold (their saved specs, as admission counts them).
    quotaAdmission.addUsage(async (orgId) => {
      const u = await store.use(orgId);
      return {
        apps: u.apps,
        cpu_millis: u.cpu_millis,
        memory_bytes: u.memory_bytes,
        replicas_per_service: u.replicas_per_service,
      };
    });
    return { apps, cluster, reconciler, appMetrics };
  },
  jobs: ({ reconciler, cluster }, core) => [reconcilerJob(reconciler, core.log), {
    name: "apps_secrets_prune",
    schedule: "*/10 * * * *",
    intervalMs: 600_000,
    // Swarm secrets no service uses that a deployment's own prune left (too young then, or
    // their app deleted since): one pass per organization.
    run: async () => {
      const manager = await cluster.manager().catch(() => null);
      if (!manager) return { skipped: "no cluster" };
      const orgs = await core.db.selectFrom("organizations").select("id").execute();
      let removed = 0;
      for (const o of orgs) removed += (await manager.gw.pruneSecrets(o.id, [], 300)).length;
      return { removed };
    },
  }],
  topics: topicRoles([appTopic]),
  migrations: {
    "0010_apps": appsMigration,
    "0011_app_task_containers": taskContainersMigration,
    "0012_apps_pins": pinsMigration,
    "0015_deployment_secrets": secretsMigration,
    "0030_app_priority": priorityMigration,
  },
  nav: [
    { key: "apps", group: "Apps", label: "Apps", scope: "org", path: "/apps" },
    {
      key: "workers",
      group: "Apps",
      label: "Workers",
      scope: "org",
      path: "/workers",
      minRole: "admin",
      order: 10,
    },
  ],
  settings: [{ id: "cluster", title: "Cluster", access: "platform", order: 30 }],
  // No stop step: a deployment cut short by a shutdown is finished (or marked failed) by the
  // reconciler of the next start; waiting here could hold a shutdown for minutes.
});
