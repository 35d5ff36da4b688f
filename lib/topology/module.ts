/**
 * The topology feature (issue 22): a graph of routes → apps → services → tasks/containers → hosts,
 * volumes and their backup targets, built from the other modules' services, answered by
 * `GET /api/v1/topology` and kept live by small patches on `org:<orgId>:topology` (platform
 * admins: `org:install:topology`). See TOPOLOGY.md.
 */
import { defineModule } from "../module.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import type { Orgs } from "../orgs/service.ts";
import type { Hosts } from "../hosts/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Apps } from "../apps/service.ts";
import type { Proxy } from "../proxy/service.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import type { Nas } from "../nas/service.ts";
import type { Health } from "../health/mod.ts";
import { listContainers } from "../hosts/container_use_cases.ts";
import type {} from "../agents/events.ts";
import type {} from "../apps/events.ts";
import type {} from "../proxy/events.ts";
import type {} from "../snapshots/events.ts";
import type {} from "../nas/events.ts";
import type {} from "../health/mod.ts";
import { createTopology, type Topology } from "./service.ts";
import type { FactSources } from "./facts.ts";
import type { RouteFact } from "./build.ts";
import type { Route } from "../proxy/store.ts";
import { scopeTopic, topologyTopic } from "./topics.ts";

/** A route's target as the builder takes it. */
function routeTarget(t: Route["spec"]["target"]): RouteFact["target"] {
  if (t.kind === "app") return { kind: "app", app: t.app, service: t.service };
  if (t.kind === "container") {
    return { kind: "container", host_id: t.host_id, container: t.container };
  }
  return { kind: "url", url: t.url };
}

export const topologyModule = defineModule<
  { topology: Topology },
  {
    orgs: Orgs;
    hosts: Hosts;
    agents: AgentRegistry;
    apps: Apps;
    proxy: Proxy;
    snapshotStore: SnapshotStore;
    nas: Nas;
    health: Health;
  }
>({
  name: "topology",
  deps: ["orgs", "hosts", "agents", "apps", "proxy", "snapshotStore", "nas", "health"],
  services: (core, { orgs, hosts, agents, apps, proxy, snapshotStore, nas, health }) => {
    const sources: FactSources = {
      async orgs(scope) {
        if (scope.kind === "org") {
          const o = await orgs.byId(scope.orgId);
          return o ? [{ id: o.id, slug: o.slug }] : [];
        }
        // Every organization (the list is capped at 1000 by the orgs service).
        return (await orgs.listForUser("", true)).map((o) => ({ id: o.id, slug: o.slug }));
      },
      async hosts(orgId) {
        return (await hosts.list(orgId)).map((h) => ({
          id: h.id,
          org_id: h.org_id,
          name: h.name,
          seen: h.enrolled_at !== null || h.last_seen_at !== null,
        }));
      },
      online: (hostId) => agents.isOnline(hostId),
      async containers(orgId, limit) {
        const page = await listContainers(core, orgId, { limit, offset: 0 });
        return {
          total: page.total,
          items: page.items.map((c) => ({
            host_id: c.host_id,
            org_id: orgId,
            id: c.id,
            name: c.name,
            state: c.state,
            labels: c.labels,
            created: c.created,
          })),
        };
      },
      async apps(orgId) {
        return (await apps.store.ofOrg(orgId)).map((a) => ({
          id: a.id,
          org_id: a.org_id,
          name: a.name,
          desired_state: a.desired_state,
          services: a.spec.services.map((s) => ({
            name: s.name,
            replicas: s.replicas,
            global: s.global,
            volumes: s.volumes.map((v) => v.name),
          })),
        }));
      },
      async routes(orgId, limit) {
        return (await proxy.store.list(orgId, { limit })).map((r) => ({
          id: r.id,
          org_id: r.org_id,
          hostnames: r.spec.hostnames,
          path_prefix: r.spec.path_prefix ?? null,
          status: r.status,
          target: routeTarget(r.spec.target),
        }));
      },
      snapshots: {
        volumes: (orgId) => snapshotStore.volumes(orgId),
        lastComplete: (orgId, ids) => snapshotStore.lastComplete(orgId, ids),
        recent: (orgId, limit) => snapshotStore.snapshots(orgId, { limit }),
        schedules: (orgId) => snapshotStore.schedules(orgId),
        targets: (orgId) => snapshotStore.targets(orgId),
      },
      nas: (orgId) => nas.list(orgId),
      async checks(orgId, limit) {
        return (await health.service.list(orgId, { limit })).items.map((c) => ({
          host_id: c.host_id,
          container_id: c.container_id,
          state: c.state,
        }));
      },
      // The fleet topic carries every host's CPU and memory: one subscription for the whole map.
      hostMetricsTopic: (orgId) => topics.fleetMetrics(orgId),
    };
    const topology = createTopology({
      sources,
      clock: core.clock,
      log: core.log,
      publish: (scope, patch) => core.realtime.publish(scopeTopic(scope), patch),
    });

    // What changes the graph. Handlers only schedule (the bus is synchronous on hot paths).
    const { events } = core;
    const org = (orgId: string) => topology.changed(orgId);
    events.on("agent.containers_changed", ({ host }) => org(host.org_id));
    events.on("agent.connected", ({ host }) => org(host.org_id));
    events.on("agent.disconnected", ({ host }) => org(host.org_id));
    events.on("host.renamed", ({ host }) => org(host.org_id));
    events.on("app.changed", (e) => org(e.org_id));
    events.on("apps.stopped", (e) => org(e.org_id));
    events.on("health.changed", (e) => org(e.org_id));
    events.on("snapshots.completed", (e) => org(e.org_id));
    events.on("snapshots.failed", (e) => org(e.org_id));
    events.on("snapshots.verify_failed", (e) => org(e.org_id));
    events.on("proxy.route_changed", (e) => org(e.org_id));
    events.on("proxy.certificate", (e) => org(e.org_id));
    events.on("nas.status", (e) => org(e.org_id));
    return { topology };
  },
  jobs: ({ topology }) => [{
    name: "topology_refresh",
    schedule: "*/5 * * * *",
    intervalMs: 300_000,
    // Backup badges age with no event at all, and a few changes announce nothing (a host added,
    // a target edited): every watched scope is rebuilt and its differences published.
    run: () => topology.refresh(),
  }],
  topics: topicRoles([topologyTopic]),
  // The pages (routes/o/[org]/topology.tsx, routes/admin/topology.tsx) belong to the map's side.
  nav: [
    {
      key: "topology",
      group: "Fleet",
      label: "Topology",
      scope: "org",
      path: "/topology",
      order: 20,
    },
    {
      key: "admin-topology",
      group: "Admin",
      label: "Topology",
      scope: "platform",
      path: "/admin/topology",
      order: 50,
    },
  ],
  stop: ({ topology }) => topology.close(),
});
