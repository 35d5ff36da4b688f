/**
 * The proxy feature: routes and domains of organizations, rendered into the ingress's config
 * (Caddy through its admin API) whenever a route changes or an app's tasks move, and checked by a
 * periodic sync that reloads Caddy when it lost Capstan's config (a restart) — never otherwise.
 */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Orgs } from "../orgs/service.ts";
import type { Apps } from "../apps/service.ts";
import type { Cluster } from "../apps/cluster.ts";
import "../apps/events.ts";
import "./events.ts";
import { createCaddyAdmin, parseCaddyEndpoint } from "./caddy_admin.ts";
import { createProxyStore } from "./store.ts";
import { type AutoTarget, createIngress, type Ingress } from "./ingress.ts";
import { createProxy, type Proxy } from "./service.ts";
import type { UpstreamSources } from "./upstreams.ts";
import * as proxyMigration from "./migration.ts";
import { join } from "node:path";
import { startCaddyProcess } from "./caddy_process.ts";
import { createDnsResolver } from "./dns_check.ts";
import { createDomains, type Domains } from "./domains.ts";

export const proxyModule = defineModule<
  { proxy: Proxy; ingress: Ingress; domains: Domains },
  { audit: AuditLog; orgs: Orgs; apps: Apps; cluster: Cluster }
>({
  name: "proxy",
  deps: ["audit", "orgs", "apps", "cluster"],
  services: (core, { audit, orgs, apps, cluster }) => {
    const { db, clock, log, config } = core;
    const store = createProxyStore(db, clock);
    const endpoint = config.proxy.caddyAdmin ? parseCaddyEndpoint(config.proxy.caddyAdmin) : null;
    const caddy = endpoint ? createCaddyAdmin(endpoint) : null;

    const appOf = async (orgId: string, name: string) => {
      try {
        return await apps.store.get(orgId, name);
      } catch {
        return null;
      }
    };
    const sources: UpstreamSources & { autoTargets(): Promise<AutoTarget[]> } = {
      async appServices(orgId, name) {
        const app = await appOf(orgId, name);
        if (!app) return null;
        // Either failing is an error (the ingress keeps the last upstreams), never "no tasks".
        const [status, nodes] = await Promise.all([apps.status(app), cluster.nodes()]);
        const addr = new Map(nodes.map((n) => [n.node_id, n.addr]));
        return status.services.map((s) => ({
          name: s.name,
          ingress: s.ports
            .filter((p) => p.PublishMode !== "host")
            .map((p) => ({
              target: p.TargetPort ?? 0,
              published: p.PublishedPort ?? 0,
              protocol: p.Protocol ?? "tcp",
            })),
          tasks: s.tasks.map((t) => ({
            state: t.state,
            desired: t.desired,
            node_addr: t.node_id ? addr.get(t.node_id) ?? null : null,
            ports: t.ports,
          })),
        }));
      },
      async ingressAddr() {
        try {
          return (await cluster.info())?.advertise_addr ?? null;
        } catch {
          return null;
        }
      },
      async autoTargets() {
        const out: AutoTarget[] = [];
        const slugs = new Map<string, string>();
        for (const app of await apps.store.all()) {
          const service = app.spec.services.find((s) => s.ports.some((p) => p.protocol !== "udp"));
          const port = service?.ports.find((p) => p.protocol !== "udp");
          if (!service || !port) continue;
          if (!slugs.has(app.org_id)) {
            slugs.set(app.org_id, (await orgs.byId(app.org_id))?.slug ?? "");
          }
          const slug = slugs.get(app.org_id)!;
          if (!slug) continue;
          out.push({
            org_id: app.org_id,
            org_slug: slug,
            app: app.name,
            service: service.name,
            port: port.target,
          });
        }
        return out;
      },
    };

    const ingress = createIngress({
      store,
      sources,
      caddy,
      adminListen: endpoint?.listen ?? "",
      httpPort: config.proxy.httpPort,
      httpsPort: config.proxy.httpsPort,
      appsDomain: config.proxy.appsDomain,
      log,
    });
    const domains = createDomains({
      store,
      resolver: createDnsResolver(config.proxy.dnsServers),
      clock,
      log,
      // The ingress runs beside the hub (its admin API is loopback or a socket).
      ingressTls: caddy ? { host: "127.0.0.1", port: config.proxy.httpsPort } : null,
      changed: () => ingress.request(),
      certificate: (change) => core.events.emit("proxy.certificate", change),
    });
    const proxy = createProxy({
      store,
      ingress,
      domains,
      audit,
      appServices: async (orgId, name) => {
        const app = await appOf(orgId, name);
        return app ? app.spec.services.map((s) => s.name) : null;
      },
      changed: (orgId, routeId) =>
        core.events.emit("proxy.route_changed", { org_id: orgId, route_id: routeId }),
    });
    // An app's tasks moved or changed: its routes follow.
    core.events.on("app.changed", () => {
      if (caddy) void ingress.request();
    });
    return { proxy, ingress, domains };
  },
  // The hub-run Caddy (CAPSTAN_CADDY=run) starts before the HTTP server and gets every route.
  start: ({ ingress }, core) => {
    if (!core.config.proxy.runCaddy) return;
    const started = startCaddyProcess({
      binary: core.config.proxy.caddyBinary,
      dir: join(core.config.dataDir, "caddy"),
      log: core.log,
      onRestart: () => {
        ingress.forget();
        void ingress.request();
      },
    }).then(async (p) => {
      const outcome = await ingress.request();
      if (!outcome.ok) core.log.warn("proxy: first load refused", { error: outcome.error });
      return p;
    }, (e) => {
      core.log.error("proxy: Caddy could not start", { error: String(e) });
      return null;
    });
    return async () => {
      await (await started)?.stop();
    };
  },
  jobs: ({ ingress, domains }, core) => [{
    name: "proxy_domains",
    schedule: "*/5 * * * *",
    intervalMs: 300_000,
    // DNS checks that are due (bounded per tick) and every hostname's served certificate.
    run: () => domains.pass(),
  }, {
    name: "proxy_sync",
    schedule: "* * * * *",
    intervalMs: 60_000,
    // Catches what no event said (a task that died and came back elsewhere, a restarted Caddy):
    // a render, and a load only when the config differs from the one loaded.
    run: async () => {
      if (!core.config.proxy.caddyAdmin) return { skipped: "no ingress configured" };
      const outcome = await ingress.request();
      return { ok: outcome.ok, error: outcome.error ?? null };
    },
  }],
  migrations: { "0013_proxy": proxyMigration },
  nav: [{ key: "routes", group: "Apps", label: "Routes", scope: "org", path: "/routes", order: 5 }],
  // A page of its own (routes/o/[org]/settings/proxy.tsx): it has forms.
  settings: [{ id: "proxy", title: "Proxy", access: "platform", order: 35 }],
  close: async ({ ingress }) => {
    await ingress.close();
  },
});
