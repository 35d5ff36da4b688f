/**
 * Renders Capstan's routes as Traefik v3 file-provider dynamic configuration: one YAML document per
 * organization, for users who run Traefik themselves and point its file provider at a directory
 * Capstan writes (`writeTraefikFiles`). Like the Caddy renderer it is a pure function of its input,
 * so "regenerate everything" (switching provider in Settings) is one more call.
 *
 * Every object a route makes is named `capstan-<route id>…`, so Traefik's dashboard and its errors
 * name the route. Routers, per route:
 * - `capstan-<id>` on the HTTPS entry point for hostnames with TLS `internal` (`tls: {}`: Traefik
 *   presents its default certificate, the self-signed one unless the user set a default in the TLS
 *   store) and `capstan-<id>-acme` for hostnames with TLS `acme` (`tls.certResolver`);
 * - `capstan-<id>-web` on the HTTP entry point for hostnames without TLS (and for the secure ones
 *   when the route asks for no HTTPS redirect), `capstan-<id>-to-https` redirecting the others;
 * - `capstan-<id>-www-<n>` (and `…-web`) answering the www ↔ apex partner of hostname n.
 * TCP and UDP routes listen on the entry points `tcp-<port>` and `udp-<port>`, which the user
 * declares in Traefik's static configuration (the file provider cannot add entry points).
 */
import { stringify } from "yaml";
import type { RenderRoute, Unsupported } from "./caddy_config.ts";
import type { StoredRouteSpec } from "./spec.ts";
import { wwwPartner } from "./spec.ts";

/** Settings of a Traefik the user runs. */
export interface TraefikSettings {
  /** Traefik's certificate resolver for hostnames with TLS `acme` (its static configuration). */
  certResolver?: string;
  /** Names of Traefik's HTTP and HTTPS entry points. */
  entryPoints: { web: string; websecure: string };
  /** The public HTTPS port, when it is not 443 (redirects name it). */
  httpsPort?: number;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Ids become Traefik names and org ids file names: nothing that could escape either. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function safe(kind: string, id: string | undefined): string {
  if (!id || !SAFE_ID.test(id)) throw new Error(`Cannot render ${kind} ${JSON.stringify(id)}`);
  return id;
}

/** The prefix of every Traefik object of a route. */
export const traefikName = (routeId: string) => `capstan-${safe("route", routeId)}`;

/** The file holding an organization's routes. */
export const traefikFileName = (orgId: string) => `capstan-${safe("organization", orgId)}.yml`;

/** `Host(…) || …`; a wildcard (one label, as in Caddy) as an anchored `HostRegexp`. */
function hostRule(hosts: string[]): string {
  const one = (h: string) =>
    h.startsWith("*.")
      ? "HostRegexp(`^[a-z0-9-]+" + h.slice(1).replaceAll(".", "\\.") + "$`)"
      : "Host(`" + h + "`)";
  const rule = hosts.map(one).join(" || ");
  return hosts.length > 1 ? `(${rule})` : rule;
}

/** The prefix itself or below it, as Caddy's `path: [p, p/*]` (a bare PathPrefix would match `/apiary`). */
function rule(hosts: string[], prefix: string | undefined): string {
  if (!prefix || prefix === "/") return hostRule(hosts);
  return `${hostRule(hosts)} && (Path(\`${prefix}\`) || PathPrefix(\`${prefix}/\`))`;
}

/**
 * Exact hostnames before wildcards, longer path prefixes before shorter ones, as the Caddy
 * renderer orders them (Traefik's default priority, the rule's length, is not that).
 */
function priority(spec: StoredRouteSpec): number {
  const wild = spec.hostnames.some((h) => h.startsWith("*."));
  return (wild ? 1000 : 2000) + (spec.path_prefix?.length ?? 0);
}

/**
 * Traefik's basicAuth reads htpasswd lines; htpasswd's bcrypt prefix is `$2y$`. bcryptjs writes
 * `$2a$`/`$2b$`, the same algorithm: only the prefix changes, so the stored hash still verifies.
 */
function htpasswd(auth: { username: string; bcrypt: string }): string {
  return `${auth.username}:${auth.bcrypt.replace(/^\$2[abxy]\$/, "$2y$")}`;
}

/** The middlewares serving a route, in the order a request meets them. */
function servingMiddlewares(r: RenderRoute, name: string, out: Record<string, Json>): string[] {
  const s = r.spec;
  const chain: [string, Json][] = [];
  if (s.ip_allow?.length) chain.push(["ip-allow", { ipAllowList: { sourceRange: s.ip_allow } }]);
  if (!s.maintenance) {
    if (s.rate_limit) {
      chain.push(["rate-limit", {
        rateLimit: { average: s.rate_limit.per_second, period: "1s", burst: s.rate_limit.burst },
      }]);
    }
    if (s.basic_auth) {
      // removeHeader: the credentials are the proxy's, the app has no use for them.
      chain.push(["basic-auth", {
        basicAuth: { users: [htpasswd(s.basic_auth)], realm: "restricted", removeHeader: true },
      }]);
    }
    if (s.max_body_bytes) {
      chain.push(["body-limit", { buffering: { maxRequestBodyBytes: s.max_body_bytes } }]);
    }
    // A URL target's Host header: Traefik's headers middleware sets the request's Host from a
    // custom request header named Host. (An empty value deletes a header in Traefik.)
    const request = { ...s.request_headers, ...(r.upstreamHost ? { Host: r.upstreamHost } : {}) };
    const headers: Json = {};
    if (Object.keys(request).length) headers.customRequestHeaders = request;
    if (Object.keys(s.response_headers).length) {
      headers.customResponseHeaders = s.response_headers;
    }
    if (Object.keys(headers).length) chain.push(["headers", { headers }]);
    if (s.strip_prefix && s.path_prefix && s.path_prefix !== "/") {
      chain.push(["strip-prefix", { stripPrefix: { prefixes: [s.path_prefix] } }]);
    }
  }
  for (const [suffix, middleware] of chain) out[`${name}-${suffix}`] = middleware;
  return chain.map(([suffix]) => `${name}-${suffix}`);
}

/**
 * The service of a route. Under maintenance: a load balancer with no servers, for which Traefik
 * itself answers 503 Service Unavailable (its documented answer when a router matched and no server
 * is there), with its own short text rather than Caddy's maintenance page. Traefik v3 has no static
 * response; the alternative, an `errors` middleware, only swaps the body of an error for a page
 * fetched from another service, so it needs a page server and still something that answers 503
 * first. The empty load balancer is that something, alone; a branded page could be layered on it
 * later with an `errors` middleware. A route with nothing running behind it is the same empty load
 * balancer (Caddy answers 502 and says why; Traefik says "no available server").
 */
function services(r: RenderRoute, name: string, http: Json): string {
  if (r.spec.maintenance) {
    http.services[`${name}-maintenance`] = { loadBalancer: { servers: [] } };
    return `${name}-maintenance`;
  }
  const scheme = r.upstreamTls ? "https" : "http";
  const loadBalancer: Json = {
    servers: r.upstreams.map((dial) => ({ url: `${scheme}://${dial}` })),
    passHostHeader: true,
  };
  if (r.upstreamTls && r.upstreamHost) {
    // The upstream's certificate names its hostname, not the address dialled.
    http.serversTransports[name] = { serverName: r.upstreamHost };
    loadBalancer.serversTransport = name;
  }
  http.services[name] = { loadBalancer };
  return name;
}

/** The HTTP objects of one route. */
function renderHttpRoute(
  r: RenderRoute,
  settings: TraefikSettings,
  http: Json,
  unsupported: Unsupported[],
) {
  const name = traefikName(r.id);
  const s = r.spec;
  const web = [settings.entryPoints.web];
  const websecure = [settings.entryPoints.websecure];
  const prio = priority(s);
  const mode = (h: string) => r.tls[h] ?? "off";
  const tlsOf = (h: string): Json =>
    mode(h) === "acme" && settings.certResolver ? { certResolver: settings.certResolver } : {};
  if (settings.certResolver === undefined && s.hostnames.some((h) => mode(h) === "acme")) {
    unsupported.push({
      route_id: r.id,
      field: "tls",
      reason: "no certificate resolver is set for Traefik: served with its default certificate",
    });
  }

  const middlewares = servingMiddlewares(r, name, http.middlewares);
  const service = services(r, name, http);
  const serve = (hosts: string[], entryPoints: string[], tls?: Json) => ({
    entryPoints,
    rule: rule(hosts, s.path_prefix),
    priority: prio,
    ...(middlewares.length ? { middlewares } : {}),
    service,
    ...(tls ? { tls } : {}),
  });

  const internal = s.hostnames.filter((h) => mode(h) === "internal");
  const acme = s.hostnames.filter((h) => mode(h) === "acme");
  const secure = [...internal, ...acme];
  const plain = s.hostnames.filter((h) => mode(h) === "off");
  if (internal.length) http.routers[name] = serve(internal, websecure, {});
  if (acme.length) http.routers[`${name}-acme`] = serve(acme, websecure, tlsOf(acme[0]));
  const servedPlain = [...plain, ...(s.https_redirect ? [] : secure)];
  if (servedPlain.length) http.routers[`${name}-web`] = serve(servedPlain, web);
  if (s.https_redirect && secure.length) {
    const port = settings.httpsPort && settings.httpsPort !== 443 ? String(settings.httpsPort) : "";
    http.middlewares[`${name}-to-https`] = {
      redirectScheme: { scheme: "https", ...(port ? { port } : {}), permanent: true },
    };
    http.routers[`${name}-to-https`] = {
      entryPoints: web,
      rule: rule(secure, s.path_prefix),
      priority: prio,
      middlewares: [`${name}-to-https`],
      service: "noop@internal",
    };
  }

  // www ↔ apex: the partner spelling redirects to the route's own hostname, keeping path and
  // query, over HTTPS when that hostname has TLS.
  s.hostnames.forEach((h, i) => {
    const partner = wwwPartner(h, s.www);
    if (!partner) return;
    const id = `${name}-www-${i}`;
    const secureTarget = mode(h) !== "off";
    const port = secureTarget && settings.httpsPort && settings.httpsPort !== 443
      ? `:${settings.httpsPort}`
      : "";
    http.middlewares[id] = {
      redirectRegex: {
        regex: "^https?://[^/]+/(.*)$",
        replacement: `${secureTarget ? "https" : "http"}://${h}${port}/\${1}`,
        permanent: true,
      },
    };
    const redirect = { rule: hostRule([partner]), priority: 2000, middlewares: [id] };
    if (secureTarget) {
      http.routers[id] = {
        entryPoints: websecure,
        ...redirect,
        service: "noop@internal",
        tls: tlsOf(h),
      };
    }
    http.routers[`${id}-web`] = { entryPoints: web, ...redirect, service: "noop@internal" };
  });
}

/** The TCP or UDP objects of one route: its entry port forwarded to the upstreams as it is. */
function renderLayer4Route(r: RenderRoute, tcp: Json, udp: Json) {
  const name = traefikName(r.id);
  const s = r.spec;
  const servers = r.upstreams.map((address) => ({ address }));
  if (s.protocol === "udp") {
    udp.routers[name] = { entryPoints: [`udp-${s.entry_port}`], service: name };
    udp.services[name] = { loadBalancer: { servers } };
    return;
  }
  const router: Json = { entryPoints: [`tcp-${s.entry_port}`], rule: "HostSNI(`*`)" };
  if (s.ip_allow?.length) {
    tcp.middlewares[`${name}-ip-allow`] = { ipAllowList: { sourceRange: s.ip_allow } };
    router.middlewares = [`${name}-ip-allow`];
  }
  tcp.routers[name] = { ...router, service: name };
  tcp.services[name] = { loadBalancer: { servers } };
}

/** Drops the empty sections, so a file holds only what its routes use. */
function prune(config: Record<string, Record<string, Json>>): Json {
  const out: Json = {};
  for (const [section, parts] of Object.entries(config)) {
    const kept = Object.fromEntries(Object.entries(parts).filter(([, v]) => Object.keys(v).length));
    if (Object.keys(kept).length) out[section] = kept;
  }
  return out;
}

/** One organization's dynamic configuration as a plain object (what the YAML says). */
export function traefikConfig(
  routes: RenderRoute[],
  settings: TraefikSettings,
  unsupported: Unsupported[] = [],
): Json {
  const http = { routers: {}, middlewares: {}, services: {}, serversTransports: {} };
  const tcp = { routers: {}, middlewares: {}, services: {} };
  const udp = { routers: {}, services: {} };
  for (const r of [...routes].sort((a, b) => a.id.localeCompare(b.id))) {
    if (r.spec.protocol === "http") renderHttpRoute(r, settings, http, unsupported);
    else renderLayer4Route(r, tcp, udp);
  }
  return prune({ http, tcp, udp });
}

/**
 * The YAML of each organization's routes (keyed by org id), and what Traefik will not apply as
 * asked. Strings are single-quoted: Traefik's YAML reader must not take `yes` or `on` for booleans,
 * and single quotes need no escaping of the backslashes in rules and regexes.
 */
export function renderTraefik(
  routes: RenderRoute[],
  settings: TraefikSettings,
): { files: Map<string, string>; unsupported: Unsupported[] } {
  const byOrg = new Map<string, RenderRoute[]>();
  for (const r of routes) {
    const org = safe("organization", r.org_id);
    byOrg.set(org, [...(byOrg.get(org) ?? []), r]);
  }
  const unsupported: Unsupported[] = [];
  const files = new Map<string, string>();
  for (const org of [...byOrg.keys()].sort()) {
    const config = traefikConfig(byOrg.get(org)!, settings, unsupported);
    const header = `# Traefik dynamic configuration of Capstan organization ${org}.\n` +
      "# Written by Capstan on every route change: edits here are overwritten.\n";
    files.set(
      org,
      header + stringify(config, {
        defaultStringType: "QUOTE_SINGLE",
        defaultKeyType: "PLAIN",
        lineWidth: 0,
        // Shared arrays (entry points, middleware lists) written out in full, not as aliases.
        aliasDuplicateObjects: false,
      }),
    );
  }
  return { files, unsupported };
}
