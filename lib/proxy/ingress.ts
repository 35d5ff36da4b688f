/**
 * The ingress: renders every route of the install (and the apps' automatic subdomains) into one
 * Caddy config and loads it, through the coalescing applier — or, when the provider is Traefik,
 * writes them as Traefik file-provider YAML (one file per organization) to the configured
 * directory, each file atomically, for a Traefik the user runs. A config equal to the last one loaded
 * is not loaded again, so the periodic sync and repeated events cost a render, not a reload. After
 * a load, every route is `active`; when Caddy refuses one, the routes changed since the last good
 * load carry Caddy's words and Caddy keeps serving the last good config.
 */
import type { Logger } from "../log.ts";
import type { CaddyAdmin } from "./caddy_admin.ts";
import {
  renderCaddyConfig,
  type RenderRoute,
  type TlsMode,
  type Unsupported,
} from "./caddy_config.ts";
import { type ApplyOutcome, createApplier } from "./applier.ts";
import type { Domain, ProxySettings, ProxyStore, Route } from "./store.ts";
import { type Resolved, resolveTarget, type UpstreamSources } from "./upstreams.ts";
import type { StoredRouteSpec } from "./spec.ts";
import { renderTraefik } from "./traefik.ts";
import { writeTraefikFiles } from "./traefik_files.ts";
import { renderCaddyfile } from "./caddyfile.ts";

/** An app service that gets `<app>-<org>.<default domain>`. */
export interface AutoTarget {
  org_id: string;
  org_slug: string;
  app: string;
  service: string;
  port: number;
}

export interface IngressDeps {
  store: ProxyStore;
  sources: UpstreamSources & {
    /** Every app service with a published TCP port: the first such service and port of each app. */
    autoTargets(): Promise<AutoTarget[]>;
  };
  /** The Caddy to load, or null when none is configured (routes are kept, nothing is loaded). */
  caddy: CaddyAdmin | null;
  adminListen: string;
  httpPort: number;
  httpsPort: number;
  /** CAPSTAN_APPS_DOMAIN: the default domain when Settings has none. */
  appsDomain?: string;
  log: Logger;
  intervalMs?: number;
}

/** What one render produced, for the Settings page and the routes' detail. */
export interface RenderResult {
  config: unknown;
  unsupported: Unsupported[];
  /** Why a route has no upstream, by route id (automatic routes: `auto:<org>/<app>`). */
  unresolved: Record<string, string>;
  auto: { id: string; hostname: string; org_id: string; app: string }[];
}

/** How a hostname is served, from the route's choice, the settings and the DNS check. */
export function tlsModeOf(
  spec: StoredRouteSpec,
  settings: ProxySettings,
  domain: Pick<Domain, "dns_status"> | undefined,
): TlsMode {
  const source = spec.tls ?? settings.default_tls;
  if (source === "internal") return "internal";
  // ACME only once the name points here: a failed challenge burns the CA's limits.
  return domain?.dns_status === "verified" ? "acme" : "off";
}

/** The ingress of the install. */
export function createIngress(deps: IngressDeps) {
  let lastLoaded = "";
  // The last upstreams each target resolved to: when the cluster cannot be asked for a moment (a
  // manager's agent reconnecting, a slow answer), a route keeps its last known upstreams rather
  // than answering 502 for everyone.
  const lastKnown = new Map<string, Resolved>();

  async function render(): Promise<
    RenderResult & { routes: Route[]; rendered: RenderRoute[]; settings: ProxySettings }
  > {
    const [routes, domains, settings] = await Promise.all([
      deps.store.all(),
      deps.store.allDomains(),
      deps.store.settings(),
    ]);
    const byHost = new Map(domains.map((d) => [d.hostname, d]));
    // One question per app per render, however many routes point at it.
    const cache = new Map<string, Promise<Resolved>>();
    const resolve = (orgId: string, spec: StoredRouteSpec) => {
      const key = `${orgId}\0${JSON.stringify(spec.target)}`;
      if (!cache.has(key)) {
        cache.set(
          key,
          resolveTarget(orgId, spec.target, deps.sources).then((r) => {
            lastKnown.set(key, r);
            return r;
          }, (e) => {
            const reason = `cannot ask where it runs: ${
              e instanceof Error ? e.message : String(e)
            }`;
            deps.log.warn("proxy: upstreams kept from the last answer", { reason });
            const known = lastKnown.get(key);
            return known ? { ...known, reason } : { upstreams: [], reason };
          }),
        );
      }
      return cache.get(key)!;
    };
    const unresolved: Record<string, string> = {};
    const toRender: RenderRoute[] = [];
    for (const r of routes) {
      const res = await resolve(r.org_id, r.spec);
      if (res.reason) unresolved[r.id] = res.reason;
      const tls: Record<string, TlsMode> = {};
      for (const h of r.spec.hostnames) tls[h] = tlsModeOf(r.spec, settings, byHost.get(h));
      toRender.push({ id: r.id, org_id: r.org_id, spec: r.spec, tls, ...res });
    }

    // Automatic subdomains; a hostname some route owns stays that route's.
    const auto: RenderResult["auto"] = [];
    const domain = settings.default_domain ?? deps.appsDomain ?? null;
    if (domain) {
      for (const t of await deps.sources.autoTargets()) {
        const hostname = `${t.app}-${t.org_slug}.${domain}`;
        if (byHost.has(hostname)) continue;
        const id = `auto-${t.org_id}-${t.app}`;
        const spec: StoredRouteSpec = {
          protocol: "http",
          hostnames: [hostname],
          target: { kind: "app", app: t.app, service: t.service, port: t.port },
          https_redirect: true,
          www: "none",
          strip_prefix: false,
          request_headers: {},
          response_headers: {},
          maintenance: false,
        };
        const res = await resolve(t.org_id, spec);
        if (res.reason) unresolved[`auto:${t.org_slug}/${t.app}`] = res.reason;
        const mode = settings.default_tls === "internal" ? "internal" : "off";
        toRender.push({ id, org_id: t.org_id, spec, tls: { [hostname]: mode }, ...res });
        auto.push({ id, hostname, org_id: t.org_id, app: t.app });
      }
    }
    const { config, unsupported } = renderCaddyConfig(toRender, {
      adminListen: deps.adminListen,
      httpPort: deps.httpPort,
      httpsPort: deps.httpsPort,
      acme: { email: settings.acme_email ?? undefined, ca: settings.acme_ca ?? undefined },
    });
    return { config, unsupported, unresolved, auto, routes, rendered: toRender, settings };
  }

  /** Writes the routes as Traefik file-provider YAML, one file per organization. */
  async function writeTraefik(rendered: RenderRoute[], settings: ProxySettings): Promise<void> {
    if (!settings.traefik_dir) {
      throw new Error("Traefik is the provider but no output directory is set (Settings → Proxy)");
    }
    const { files } = renderTraefik(rendered, {
      certResolver: settings.traefik_cert_resolver ?? undefined,
      entryPoints: { web: "web", websecure: "websecure" },
      httpsPort: deps.httpsPort,
    });
    await writeTraefikFiles(settings.traefik_dir, files);
  }

  async function apply(): Promise<void> {
    const { config, routes, rendered, settings } = await render();
    const pending = routes.filter((r) => r.status !== "active").map((r) => r.id);
    if (settings.provider === "traefik") {
      try {
        await writeTraefik(rendered, settings);
      } catch (e) {
        await deps.store.setApplied(pending, e instanceof Error ? e.message : String(e));
        throw e;
      }
      lastLoaded = "";
      return await deps.store.setApplied(pending, null);
    }
    if (!deps.caddy) {
      await deps.store.setApplied(pending, "no ingress is configured (CAPSTAN_CADDY_ADMIN)");
      throw new Error("no ingress is configured (CAPSTAN_CADDY_ADMIN)");
    }
    const text = JSON.stringify(config);
    if (text !== lastLoaded) {
      try {
        await deps.caddy.load(config);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        deps.log.warn("proxy config refused; the last good one keeps serving", { error: message });
        await deps.store.setApplied(pending, message);
        throw e;
      }
      lastLoaded = text;
    }
    await deps.store.setApplied(pending, null);
  }

  const applier = createApplier({ apply, intervalMs: deps.intervalMs });

  return {
    /** Renders and loads soon (coalesced); resolves with the load that carried this request. */
    request: (): Promise<ApplyOutcome> => applier.request(),
    /** What would be loaded now, without loading it. */
    async preview(): Promise<RenderResult> {
      const { routes: _r, rendered: _d, settings: _s, ...rest } = await render();
      return rest;
    },
    /** The same routes as a Caddyfile, for download. */
    async caddyfile(): Promise<string> {
      const { rendered, settings } = await render();
      return renderCaddyfile(rendered, {
        // For a Caddy the user runs: its admin API where Caddy puts it by default.
        adminListen: "localhost:2019",
        httpPort: deps.httpPort,
        httpsPort: deps.httpsPort,
        acme: { email: settings.acme_email ?? undefined, ca: settings.acme_ca ?? undefined },
      });
    },
    last: () => applier.last(),
    /** Forgets what was loaded, so the next apply loads even an equal config (Caddy restarted). */
    forget() {
      lastLoaded = "";
    },
    close: () => applier.close(),
  };
}

export type Ingress = ReturnType<typeof createIngress>;
