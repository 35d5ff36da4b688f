/**
 * A Caddyfile of the routes, for download: the same routes the JSON renderer (caddy_config.ts)
 * loads into Capstan's Caddy, written for a person to read and to run in a Caddy of their own.
 * Equivalent where the Caddyfile can say it: one site block per group of hostnames served by the
 * same routes, one `handle` per route (most specific path first), and inside it a `route` block so
 * the directives run in the order written (IP allow list, maintenance, headers, auth, body limit,
 * strip prefix, proxy) rather than in the Caddyfile's own directive order.
 *
 * Where it differs: TLS is not on demand (that was for Capstan's frequent reloads); a rate limit
 * and TCP/UDP routes are comments, as Caddy's standard build has neither.
 */
import type { RenderRoute, RenderSettings, TlsMode } from "./caddy_config.ts";
import { literal, MAINTENANCE_PAGE } from "./caddy_config.ts";
import { wwwPartner } from "./spec.ts";

/**
 * A Caddyfile token: bare when it can be, else in backticks (Caddy 2.5+: nothing inside is an
 * escape, so backslashes stay as written), else in double quotes (where only `\"` is an escape).
 */
function q(s: string): string {
  if (/^[A-Za-z0-9._~!$&'()*+,;=:%\/?-][A-Za-z0-9._~!$&'()*+,;=:@%\/?-]*$/.test(s)) return s;
  if (!s.includes("`")) return `\`${s}\``;
  return `"${s.replaceAll('"', '\\"')}"`;
}

/** Lines indented by one tab per level. */
function block(head: string, body: string[]): string[] {
  return [head ? `${head} {` : "{", ...body.map((l) => (l ? `\t${l}` : l)), "}"];
}

/**
 * Header values as Caddyfile tokens, read literally (see `literal`). Left out with a comment: a
 * value holding `{$` (the Caddyfile replaces `{$NAME}` with an environment variable before it reads
 * anything, quoted or not, and has no escape for it), and one holding both a backtick and a
 * backslash (no quoting keeps both as written).
 */
function writable(headers: Record<string, string>, comments: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(headers)) {
    const value = literal(v);
    if (v.includes("{$") || (value.includes("`") && value.includes("\\"))) {
      comments.push(`# header ${k} left out: a Caddyfile cannot hold its value`);
    } else out.push([k, q(value)]);
  }
  return out;
}

const matcherName = (id: string) => `@capstan_${id.replace(/[^A-Za-z0-9_]/g, "_")}`;

/** The directives of one route, in the order a request meets them. */
function routeBody(r: RenderRoute, redirectOnHttp: string | null): string[] {
  const s = r.spec;
  const m = matcherName(r.id);
  const out: string[] = [];
  if (redirectOnHttp) {
    out.push(`${m}_http protocol http`, `redir ${m}_http ${redirectOnHttp} 308`);
  }
  if (s.ip_allow?.length) {
    out.push(`${m}_blocked not remote_ip ${s.ip_allow.join(" ")}`);
    out.push(`respond ${m}_blocked "Forbidden" 403`);
  }
  if (s.maintenance) {
    return [
      ...out,
      `header Content-Type ${q("text/html; charset=utf-8")}`,
      "header Retry-After 300",
      `respond ${q(MAINTENANCE_PAGE)} 503`,
    ];
  }
  if (s.rate_limit) {
    out.push(
      `# rate limit ${s.rate_limit.per_second}/s, burst ${s.rate_limit.burst}: ` +
        "not in Caddy's standard build (Traefik applies it)",
    );
  }
  for (const [k, v] of writable(s.request_headers, out)) out.push(`request_header ${k} ${v}`);
  const response = writable(s.response_headers, out);
  if (response.length) {
    // Deferred, as in the JSON: set on the way out, over what the upstream said.
    out.push(...block("header", [...response.map(([k, v]) => `${k} ${v}`), "defer"]));
  }
  if (s.basic_auth) {
    out.push(...block("basicauth bcrypt restricted", [
      `${q(s.basic_auth.username)} ${btoa(s.basic_auth.bcrypt)}`,
    ]));
  }
  if (s.max_body_bytes) out.push(...block("request_body", [`max_size ${s.max_body_bytes}`]));
  if (s.strip_prefix && s.path_prefix && s.path_prefix !== "/") {
    out.push(`uri strip_prefix ${q(s.path_prefix)}`);
  }
  if (!r.upstreams.length) {
    out.push(
      `header Content-Type ${q("text/plain; charset=utf-8")}`,
      `respond "Nothing runs behind this route right now." 502`,
    );
    return out;
  }
  const proxy = [
    "lb_policy round_robin",
    "lb_try_duration 5s",
    "lb_try_interval 100ms",
    "fail_duration 5s",
    "max_fails 1",
  ];
  if (r.upstreamHost) proxy.push(`header_up Host ${q(r.upstreamHost)}`);
  if (r.upstreamTls) proxy.push(...block("transport http", ["tls"]));
  out.push(...block(`reverse_proxy ${r.upstreams.join(" ")}`, proxy));
  return out;
}

/** Hostnames served by the same routes with the same TLS: one site block. */
interface Site {
  hosts: string[];
  tls: TlsMode;
  routes: RenderRoute[];
}

/** Most specific first, as in the JSON: longer path prefixes before shorter ones. */
const byPrefix = (a: RenderRoute, b: RenderRoute) =>
  (b.spec.path_prefix?.length ?? 0) - (a.spec.path_prefix?.length ?? 0) || a.id.localeCompare(b.id);

function sites(routes: RenderRoute[]): Site[] {
  const perHost = new Map<string, { tls: TlsMode; routes: RenderRoute[] }>();
  for (const r of routes) {
    for (const h of r.spec.hostnames) {
      const entry = perHost.get(h) ?? { tls: r.tls[h] ?? "off", routes: [] };
      entry.routes.push(r);
      perHost.set(h, entry);
    }
  }
  const grouped = new Map<string, Site>();
  for (const [host, { tls, routes }] of perHost) {
    const key = `${tls} ${routes.map((r) => r.id).sort().join(" ")}`;
    const site = grouped.get(key) ?? { hosts: [], tls, routes: [...routes].sort(byPrefix) };
    site.hosts.push(host);
    grouped.set(key, site);
  }
  return [...grouped.values()];
}

function siteBlock(site: Site, settings: RenderSettings): string[] {
  const secure = site.tls !== "off";
  // Every hostname is named on http:// too, which turns Caddy's automatic redirect off for it: that
  // redirect drops a non-default HTTPS port (seen with Caddy 2.6.2), and the JSON redirects per
  // route (path included) anyway. So each route that wants it redirects HTTP itself.
  const addresses = [
    ...(secure ? site.hosts.map((h) => `https://${h}`) : []),
    ...site.hosts.map((h) => `http://${h}`),
  ];
  const httpsPort = settings.httpsPort === 443 ? "" : `:${settings.httpsPort}`;
  const body: string[] = site.tls === "internal" ? ["tls internal"] : [];
  for (const r of site.routes) {
    const redirect = secure && r.spec.https_redirect ? `https://{host}${httpsPort}{uri}` : null;
    const inner = [`# route ${r.id}`, ...block("route", routeBody(r, redirect))];
    const prefix = r.spec.path_prefix;
    if (prefix && prefix !== "/") {
      const m = matcherName(r.id);
      body.push(`${m} path ${q(prefix)} ${q(`${prefix}/*`)}`, ...block(`handle ${m}`, inner));
    } else {
      body.push(...block("handle", inner));
    }
  }
  return block(addresses.join(", "), body);
}

/** The www ↔ apex partners of a route: a redirect to the route's own hostname. */
function wwwBlocks(r: RenderRoute, settings: RenderSettings): string[][] {
  const out: string[][] = [];
  for (const h of r.spec.hostnames) {
    const partner = wwwPartner(h, r.spec.www);
    if (!partner) continue;
    const tls = r.tls[h] ?? "off";
    const target = tls === "off"
      ? `http://${h}${settings.httpPort === 80 ? "" : `:${settings.httpPort}`}{uri}`
      : `https://${h}${settings.httpsPort === 443 ? "" : `:${settings.httpsPort}`}{uri}`;
    const addresses = tls === "off" ? [`http://${partner}`] : [
      `https://${partner}`,
      `http://${partner}`,
    ];
    out.push(block(addresses.join(", "), [
      `# route ${r.id}: ${r.spec.www === "to_apex" ? "www to apex" : "apex to www"}`,
      ...(tls === "internal" ? ["tls internal"] : []),
      `redir ${target} 308`,
    ]));
  }
  return out;
}

/** The Caddyfile of these routes. */
export function renderCaddyfile(routes: RenderRoute[], settings: RenderSettings): string {
  const http = routes.filter((r) => r.spec.protocol === "http");
  const global = [
    `admin ${settings.adminListen}`,
    `http_port ${settings.httpPort}`,
    `https_port ${settings.httpsPort}`,
    // Never write Caddy's root into the system's trust store: users trust it on purpose.
    "skip_install_trust",
    ...(settings.acme?.email ? [`email ${q(settings.acme.email)}`] : []),
    ...(settings.acme?.ca ? [`acme_ca ${q(settings.acme.ca)}`] : []),
  ];
  const parts: string[][] = [[
    "# Capstan's routes as a Caddyfile (Caddy 2.6 or later).",
    "# Generated: Capstan itself loads the same routes into its Caddy as JSON.",
    ...block("", global),
  ]];
  for (const r of routes.filter((r) => r.spec.protocol !== "http")) {
    parts.push([
      `# route ${r.id} (${r.spec.protocol} port ${r.spec.entry_port}): ` +
      "Caddy's standard build has no TCP/UDP proxy (Traefik applies it)",
    ]);
  }
  for (const site of sites(http)) parts.push(siteBlock(site, settings));
  for (const r of [...http].sort((a, b) => a.id.localeCompare(b.id))) {
    parts.push(...wwwBlocks(r, settings));
  }
  // A hostname no route has: say so, rather than Caddy's empty 200.
  parts.push(block("http://", [`respond "No route for {host}." 404`]));
  return parts.map((p) => p.join("\n")).join("\n\n") + "\n";
}
