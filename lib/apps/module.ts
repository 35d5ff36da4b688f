/**
 * The apps feature: apps on the Docker Swarm made of Capstan's hosts — the cluster (create or
 * adopt, join, drain, leave), apps and their immutable deployments, the deployer that converges
 * them, and the reconciler job that keeps records and Swarm in step.
 */
import { defineModule } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Orgs } from "../orgs/service.ts";
import { createAppStore } from "./store.ts";
import { type Cluster, createCluster } from "./cluster.ts";
import { createDeployer } from "./deployer.ts";
import { createReconciler, type Reconciler, reconcilerJob } from "./reconciler.ts";
import { type Apps, createApps } from "./service.ts";
import * as appsMigration from "./migration.ts";
import * as pinsMigration from "./migration_pins.ts";
import { appTopic } from "./topics.ts";
import { clusterImageCleanup } from "./image_cleanup.ts";

export const appsModule = defineModule<
  { apps: Apps; cluster: Cluster; reconciler: Reconciler },
  { audit: AuditLog; agents: AgentRegistry; orgs: Orgs }
>({
  name: "apps",
  deps: ["audit", "agents", "orgs"],
  services: (core, { audit, agents, orgs }) => {
    const { db, clock, log } = core;
    const store = createAppStore(db, clock);
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
    const deployer = createDeployer({
      store,
      clock,
      log,
      cluster: manager,
      orgSlug,
      progress: (app, p) => void core.realtime.publish(appTopic(app.org_id, app.id), p),
    });
    const reconciler = createReconciler({
      store,
      cluster: manager,
      orgSlug,
      clock,
      log,
      moved: (app, moves) => {
        for (const m of moves) {
          void core.realtime.publish(appTopic(app.org_id, app.id), {
            kind: "event",
            app_id: app.id,
            message: `Task ${m.service}.${m.slot} moved from ${m.from_node} (down) to ${m.to_node}`,
          });
        }
      },
    });
    const apps = createApps({
      store,
      cluster,
      deployer,
      audit,
      clock,
      log,
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
    });
    return { apps, cluster, reconciler };
  },
  jobs: ({ reconciler }, core) => [reconcilerJob(reconciler, core.log)],
  topics: topicRoles([appTopic]),
  migrations: { "0010_apps": appsMigration, "0011_apps_pins": pinsMigration },
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
