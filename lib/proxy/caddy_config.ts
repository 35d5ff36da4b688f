/**
 * Renders the whole Caddy configuration (Caddy's native JSON) from Capstan's routes. The config is
 * a pure function of its input, so loading it twice changes nothing and "regenerate all" is just
 * another load. Two servers: one on the HTTPS port that serves every route whose hostnames have a
 * certificate to present, and one on the HTTP port that redirects those to HTTPS (per route, not
 * Caddy's global automatic redirects) and serves the routes without TLS. Each route's objects carry
 * an `@id` (`capstan-route-<id>`), so Caddy's admin API and its errors name the route.
 *
 * Caddy's standard build (Debian's `caddy`) has no rate limiter and no TCP/UDP (layer 4) app:
 * a route's rate limit and TCP/UDP routes are left out here and reported back as unsupported;
 * Traefik applies them.
 */
import type { StoredRouteSpec } from "./spec.ts";
import { wwwPartner } from "./spec.ts";

/** How a hostname is served: HTTPS with Caddy's internal CA, HTTPS from an ACME CA, or HTTP only. */
export type TlsMode = "internal" | "acme" | "off";

/** A route with everything the renderer needs resolved. */
export interface RenderRoute {
  id: string;
  /** The organization the route belongs to (Traefik writes one file per organization). */
  org_id?: string;
  spec: StoredRouteSpec;
  /** `host:port` addresses of the target; empty when nothing runs (answers 502 with a reason). */
  upstreams: string[];
  /** For URL targets: TLS towards the upstream and the Host header it expects. */
  upstreamTls?: boolean;
  upstreamHost?: string;
  /** Per hostname (and its www partner, which follows it). */
  tls: Record<string, TlsMode>;
}

/** Settings of the ingress. */
export interface RenderSettings {
  /** Caddy's admin listener as Caddy writes it (`127.0.0.1:2019`, `unix//run/caddy.sock`). */
  adminListen: string;
  httpPort: number;
  httpsPort: number;
  acme?: { email?: string; ca?: string };
}

/** A part of a route this Caddy cannot apply, to show on the route. */
export interface Unsupported {
  route_id: string;
  field: string;
  reason: string;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** What a route under maintenance answers (503), whichever proxy serves it. */
export const MAINTENANCE_PAGE =
  "<!doctype html><meta charset=utf-8><title>Down for maintenance</title>" +
  '<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem">' +
  "<h1>Down for maintenance</h1><p>This site is being worked on and will be back shortly.</p>";

/** The Caddy id of a route's objects. */
export const caddyRouteId = (routeId: string) => `capstan-route-${routeId}`;

/** Caddy wants the bcrypt hash base64-encoded (Caddy 2.6 `http_basic` accounts). */
const b64 = (s: string) => btoa(s);

/** The handlers of a route, in the order a request meets them. */
function handlers(r: RenderRoute): Json[] {
  const s = r.spec;
  const out: Json[] = [];
  if (s.request_headers && Object.keys(s.request_headers).length) {
    out.push({ handler: "headers", request: { set: setOf(s.request_headers) } });
  }
  if (s.response_headers && Object.keys(s.response_headers).length) {
    out.push({ handler: "headers", response: { set: setOf(s.response_headers), deferred: true } });
  }
  if (s.basic_auth) {
    out.push({
      handler: "authentication",
      providers: {
        http_basic: {
          hash: { algorithm: "bcrypt" },
          accounts: [{ username: s.basic_auth.username, password: b64(s.basic_auth.bcrypt) }],
          realm: "restricted",
        },
      },
    });
  }
  if (s.max_body_bytes) out.push({ handler: "request_body", max_size: s.max_body_bytes });
  if (s.strip_prefix && s.path_prefix && s.path_prefix !== "/") {
    out.push({ handler: "rewrite", strip_path_prefix: s.path_prefix });
  }
  if (!r.upstreams.length) {
    out.push({
      handler: "static_response",
      status_code: 502,
      headers: { "Content-Type": ["text/plain; charset=utf-8"] },
      body: "Nothing runs behind this route right now.\n",
    });
    return out;
  }
  const proxy: Json = {
    handler: "reverse_proxy",
    upstreams: r.upstreams.map((dial) => ({ dial })),
    // A replica that goes away mid-deploy is skipped: retry another for a few seconds first.
    load_balancing: {
      selection_policy: { policy: "round_robin" },
      try_duration: "5s",
      try_interval: "100ms",
      // A replica being removed may still accept the connection (the engine's port proxy) and
      // then drop it: requests that cannot have changed anything are tried on another replica.
      retry_match: [{ method: ["GET", "HEAD", "OPTIONS"] }],
    },
    health_checks: { passive: { fail_duration: "5s", max_fails: 1 } },
  };
  if (r.upstreamTls) proxy.transport = { protocol: "http", tls: {} };
  if (r.upstreamHost) proxy.headers = { request: { set: { Host: [r.upstreamHost] } } };
  out.push(proxy);
  return out;
}

function setOf(h: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [literal(v)]]));
}

/**
 * A user's value as Caddy must read it: literally. Caddy expands placeholders in header values, so
 * a route's `{env.SECRET}` would send Caddy's environment to the route's app (seen: `{env.HOME}`
 * arrived expanded); braces escaped with a backslash stay braces.
 */
export function literal(value: string): string {
  return value.replace(/[{}]/g, (c) => `\\${c}`);
}

/** The guards that answer before the route's handlers: IP allow list, then maintenance. */
function guards(s: StoredRouteSpec): Json[] {
  const out: Json[] = [];
  if (s.ip_allow?.length) {
    out.push({
      match: [{ not: [{ remote_ip: { ranges: s.ip_allow } }] }],
      handle: [{ handler: "static_response", status_code: 403, body: "Forbidden\n" }],
      terminal: true,
    });
  }
  if (s.maintenance) {
    out.push({
      handle: [{
        handler: "static_response",
        status_code: 503,
        headers: { "Content-Type": ["text/html; charset=utf-8"], "Retry-After": ["300"] },
        body: MAINTENANCE_PAGE,
      }],
      terminal: true,
    });
  }
  return out;
}

function pathMatch(prefix: string | undefined): Json {
  if (!prefix || prefix === "/") return {};
  return { path: [prefix, `${prefix}/*`] };
}

/** The Caddy route serving `hosts` of `r`. */
function serveRoute(r: RenderRoute, hosts: string[]): Json {
  return {
    "@id": caddyRouteId(r.id),
    match: [{ host: hosts, ...pathMatch(r.spec.path_prefix) }],
    handle: [{ handler: "subroute", routes: [...guards(r.spec), { handle: handlers(r) }] }],
    terminal: true,
  };
}

function redirectRoute(id: string, hosts: string[], location: string): Json {
  return {
    "@id": id,
    match: [{ host: hosts }],
    handle: [{
      handler: "static_response",
      status_code: 308,
      headers: { Location: [location] },
    }],
    terminal: true,
  };
}

/**
 * Exact hostnames before wildcards, longer path prefixes before shorter ones: Caddy takes the
 * first route that matches, so the most specific must come first.
 */
function specificity(r: RenderRoute): [number, number] {
  const wild = r.spec.hostnames.some((h) => h.startsWith("*.")) ? 1 : 0;
  return [wild, -(r.spec.path_prefix?.length ?? 0)];
}

/**
 * Caddy's admin listener as every config must repeat it (a load without it moves the admin API to
 * Caddy's default). On a Unix socket Caddy accepts only the Host names in `origins`; Capstan's
 * requests name `caddy`.
 */
export function adminConfig(listen: string): { listen: string; origins?: string[] } {
  return listen.startsWith("unix/") ? { listen, origins: ["caddy"] } : { listen };
}

/** The full Caddy config for these routes, and what of them this Caddy cannot apply. */
export function renderCaddyConfig(
  routes: RenderRoute[],
  settings: RenderSettings,
): { config: Json; unsupported: Unsupported[] } {
  const unsupported: Unsupported[] = [];
  const sorted = [...routes].sort((a, b) => {
    const [wa, pa] = specificity(a);
    const [wb, pb] = specificity(b);
    return wa - wb || pa - pb || a.id.localeCompare(b.id);
  });
  const httpsRoutes: Json[] = [];
  const httpRoutes: Json[] = [];
  const internal = new Set<string>();
  const acme = new Set<string>();
  const httpsPort = settings.httpsPort === 443 ? "" : `:${settings.httpsPort}`;
  const httpPort = settings.httpPort === 80 ? "" : `:${settings.httpPort}`;

  for (const r of sorted) {
    if (r.spec.protocol !== "http") {
      unsupported.push({
        route_id: r.id,
        field: "protocol",
        reason: `Caddy's standard build has no ${r.spec.protocol} proxy; Traefik applies it`,
      });
      continue;
    }
    if (r.spec.rate_limit) {
      unsupported.push({
        route_id: r.id,
        field: "rate_limit",
        reason: "Caddy's standard build has no rate limiter; Traefik applies it",
      });
    }
    const secure = r.spec.hostnames.filter((h) => (r.tls[h] ?? "off") !== "off");
    const plain = r.spec.hostnames.filter((h) => (r.tls[h] ?? "off") === "off");
    for (const h of secure) (r.tls[h] === "acme" ? acme : internal).add(h);

    // www ↔ apex: the partner spelling answers with a redirect to the route's own hostname.
    for (const h of r.spec.hostnames) {
      const partner = wwwPartner(h, r.spec.www);
      if (!partner) continue;
      const id = `${caddyRouteId(r.id)}-www-${partner}`;
      if (r.tls[h] && r.tls[h] !== "off") {
        (r.tls[h] === "acme" ? acme : internal).add(partner);
        httpsRoutes.push(
          redirectRoute(id, [partner], `https://${h}${httpsPort}{http.request.uri}`),
        );
      }
      httpRoutes.push(
        redirectRoute(
          `${id}-http`,
          [partner],
          r.tls[h] && r.tls[h] !== "off"
            ? `https://${h}${httpsPort}{http.request.uri}`
            : `http://${h}${httpPort}{http.request.uri}`,
        ),
      );
    }
    if (secure.length) httpsRoutes.push(serveRoute(r, secure));
    const redirected = r.spec.https_redirect ? secure : [];
    const servedPlain = [...plain, ...(r.spec.https_redirect ? [] : secure)];
    if (redirected.length) {
      httpRoutes.push({
        ...redirectRoute(
          `${caddyRouteId(r.id)}-https`,
          redirected,
          `https://{http.request.host}${httpsPort}{http.request.uri}`,
        ),
        match: [{ host: redirected, ...pathMatch(r.spec.path_prefix) }],
      });
    }
    if (servedPlain.length) {
      httpRoutes.push({ ...serveRoute(r, servedPlain), "@id": `${caddyRouteId(r.id)}-http` });
    }
  }

  // On demand: Caddy 2.6 starts every load with an empty certificate cache and refills it in the
  // background, so a handshake right after a load found no certificate (3 of 154 failed in the
  // reload test). On demand, a missing certificate is loaded from storage (or issued) during the
  // handshake. The subjects bound it: only these names are ever issued.
  const policies: Json[] = [];
  if (internal.size) {
    policies.push({
      subjects: [...internal].sort(),
      issuers: [{ module: "internal" }],
      on_demand: true,
    });
  }
  if (acme.size) {
    policies.push({
      subjects: [...acme].sort(),
      issuers: [{
        module: "acme",
        ...(settings.acme?.email ? { email: settings.acme.email } : {}),
        ...(settings.acme?.ca ? { ca: settings.acme.ca } : {}),
      }],
      on_demand: true,
    });
  }

  // A hostname no route has: say so, rather than Caddy's empty 200.
  const noRoute = {
    handle: [{
      handler: "static_response",
      status_code: 404,
      headers: { "Content-Type": ["text/plain; charset=utf-8"] },
      body: "No route for {http.request.host}.\n",
    }],
  };
  httpRoutes.push(noRoute);
  if (httpsRoutes.length) httpsRoutes.push(noRoute);

  const servers: Json = {
    capstan_http: {
      listen: [`:${settings.httpPort}`],
      // Listening on the HTTP port only, Caddy gives this server no certificates of its own; it
      // still answers ACME HTTP-01 challenges for the HTTPS server's names.
      routes: httpRoutes,
    },
  };
  if (httpsRoutes.length) {
    servers.capstan_https = {
      listen: [`:${settings.httpsPort}`],
      routes: httpsRoutes,
      // Redirects are per route, on the HTTP server above.
      automatic_https: { disable_redirects: true },
    };
  }
  const config: Json = {
    admin: adminConfig(settings.adminListen),
    apps: {
      http: { http_port: settings.httpPort, https_port: settings.httpsPort, servers },
      // Never write Caddy's root into the system's trust store: users trust it on purpose.
      pki: { certificate_authorities: { local: { install_trust: false } } },
    },
  };
  if (policies.length) config.apps.tls = { automation: { policies } };
  return { config, unsupported };
}
