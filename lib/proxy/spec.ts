/**
 * A route: hostnames (and an optional path prefix) of an organization → a target (an app service
 * and its container port, a container on a host, or an external URL), with the options the proxy
 * applies on the way (HTTPS redirect, www ↔ apex, strip prefix, headers, basic auth, rate limit,
 * body size, IP allow list, maintenance page). Hostnames are stored as ASCII (IDN → punycode),
 * lower case, without a trailing dot, so one spelling owns a domain install-wide.
 *
 * A route is HTTP unless it says `protocol: "tcp"` or `"udp"`: then it forwards a port of the
 * ingress (`entry_port`) to an app or a container as it is, with no hostnames and no HTTP options
 * (an IP allow list still applies to TCP).
 */
import { domainToASCII } from "node:url";
import { z } from "zod";
import { AppName, ServiceName } from "../apps/spec.ts";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The ASCII form of a hostname (`Bücher.example.` → `xn--bcher-kva.example`), or null when it is
 * not one: labels of 1–63 letters, digits and dashes, at least two labels, at most 253
 * characters. A leading `*.` is kept (whether the caller may use a wildcard is policy, not syntax).
 */
export function normalizeHostname(input: string): string | null {
  let s = input.trim().toLowerCase();
  if (s.endsWith(".")) s = s.slice(0, -1);
  const wildcard = s.startsWith("*.");
  if (wildcard) s = s.slice(2);
  if (!s || s.length > 253 || /[\s/:@?#\\*]/.test(s)) return null;
  const ascii = domainToASCII(s);
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  // An all-numeric last label is an IP address, not a name a certificate can be issued for.
  if (/^\d+$/.test(labels[labels.length - 1])) return null;
  return (wildcard ? "*." : "") + ascii;
}

export const Hostname = z.string().max(300).transform((s, ctx) => {
  const h = normalizeHostname(s);
  if (h === null) {
    ctx.addIssue({
      code: "custom",
      message: "must be a domain name like shop.example.com (letters, digits, dashes and dots)",
    });
    return z.NEVER;
  }
  return h;
});

const Port = z.number().int().min(1, "must be 1–65535").max(65535, "must be 1–65535");
const PathPrefix = z.string().max(200).regex(
  /^\/[A-Za-z0-9._~!$&'()+,;=:@%\/-]*$/,
  "must start with / and hold only URL path characters",
).refine((p) => p === "/" || !p.endsWith("/"), "must not end with / (except / itself)");
const HeaderName = z.string().regex(
  /^[A-Za-z0-9-]{1,64}$/,
  "must be a header name like X-Frame-Options",
);
const HeaderValue = z.string().max(1000).refine(
  (v) => !/[\r\n\0]/.test(v),
  "must not contain line breaks",
);
const Headers = z.record(HeaderName, HeaderValue).refine(
  (h) => Object.keys(h).length <= 20,
  "at most 20 headers",
);
const Cidr = z.string().max(64).refine(
  (s) => /^[0-9.]+(\/\d{1,2})?$/.test(s) || /^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(s),
  "must be an address or a CIDR range like 10.0.0.0/8",
);

/** A basic-auth username (Caddy compares it as it is; a colon would end it in the header). */
export const BasicAuthUsername = z.string().regex(
  /^[^:\s]{1,64}$/,
  "must be 1–64 characters without : or spaces",
);

/** Where a route sends its requests. */
export const RouteTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("app"), app: AppName, service: ServiceName, port: Port }).strict(),
  z.object({
    kind: z.literal("container"),
    host_id: z.string().min(1).max(64),
    container: z.string().regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
      "must be a container name or id",
    ),
    port: Port,
  }).strict(),
  z.object({
    kind: z.literal("url"),
    url: z.string().max(2000).url().refine(
      (u) => /^https?:\/\//.test(u),
      "must be an http:// or https:// URL",
    ),
  }).strict(),
]);
export type RouteTarget = z.output<typeof RouteTarget>;

/** The route as a user writes it (the basic-auth password in clear; it is stored hashed). */
const RouteFields = z.object({
  protocol: z.enum(["http", "tcp", "udp"]).default("http"),
  /** The ingress port a TCP or UDP route listens on. */
  entry_port: Port.optional(),
  hostnames: z.array(Hostname).max(20, "at most 20 hostnames").default([]),
  path_prefix: PathPrefix.optional(),
  target: RouteTarget,
  /** Where certificates come from: an ACME CA, Caddy's internal CA; unset: the install's default. */
  tls: z.enum(["acme", "internal"]).optional(),
  https_redirect: z.boolean().default(true),
  www: z.enum(["none", "to_www", "to_apex"]).default("none"),
  strip_prefix: z.boolean().default(false),
  request_headers: Headers.default({}),
  response_headers: Headers.default({}),
  basic_auth: z.object({
    username: BasicAuthUsername,
    password: z.string().min(8, "must be at least 8 characters").max(128),
  }).strict().optional(),
  rate_limit: z.object({
    per_second: z.number().int().min(1).max(100_000),
    burst: z.number().int().min(1).max(100_000),
  }).strict().optional(),
  max_body_bytes: z.number().int().min(1024).max(2 ** 40).optional(),
  ip_allow: z.array(Cidr).max(100).optional(),
  maintenance: z.boolean().default(false),
}).strict();

export const RouteSpec = RouteFields.superRefine((r, ctx) => {
  if (r.protocol !== "http") return layer4Problems(r, r.protocol, ctx);
  if (!r.hostnames.length) {
    ctx.addIssue({ code: "custom", path: ["hostnames"], message: "needs at least one hostname" });
  }
  if (r.entry_port !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["entry_port"],
      message: "is for tcp and udp routes (HTTP routes use the ingress's HTTP and HTTPS ports)",
    });
  }
  if (new Set(r.hostnames).size !== r.hostnames.length) {
    ctx.addIssue({ code: "custom", path: ["hostnames"], message: "lists a hostname twice" });
  }
  if (r.strip_prefix && !r.path_prefix) {
    ctx.addIssue({
      code: "custom",
      path: ["strip_prefix"],
      message: "needs a path prefix to strip",
    });
  }
  if (r.www !== "none" && r.hostnames.some((h) => h.startsWith("*."))) {
    ctx.addIssue({ code: "custom", path: ["www"], message: "cannot apply to a wildcard hostname" });
  }
  if (r.rate_limit && r.rate_limit.burst < r.rate_limit.per_second) {
    ctx.addIssue({
      code: "custom",
      path: ["rate_limit", "burst"],
      message: "must be at least the rate per second",
    });
  }
});

/** What a TCP or UDP route must not carry: HTTP options, hostnames, a URL target. */
function layer4Problems(
  r: z.output<typeof RouteFields>,
  protocol: "tcp" | "udp",
  ctx: z.RefinementCtx,
) {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message });
  if (r.entry_port === undefined) issue("entry_port", `a ${protocol} route needs an entry port`);
  if (r.hostnames.length) issue("hostnames", `a ${protocol} route has no hostnames`);
  if (r.target.kind === "url") issue("target", `a ${protocol} route needs an app or a container`);
  const httpOnly: [string, boolean][] = [
    ["path_prefix", r.path_prefix !== undefined],
    ["www", r.www !== "none"],
    ["strip_prefix", r.strip_prefix],
    ["request_headers", Object.keys(r.request_headers).length > 0],
    ["response_headers", Object.keys(r.response_headers).length > 0],
    ["basic_auth", r.basic_auth !== undefined],
    ["rate_limit", r.rate_limit !== undefined],
    ["max_body_bytes", r.max_body_bytes !== undefined],
    ["maintenance", r.maintenance],
    ["ip_allow", protocol === "udp" && r.ip_allow !== undefined],
  ];
  for (const [field, set] of httpOnly) {
    if (set) issue(field, `does not apply to a ${protocol} route`);
  }
}
export type RouteSpecInput = z.input<typeof RouteSpec>;
export type RouteSpec = z.output<typeof RouteSpec>;

/** A stored route's options: the spec with the basic-auth password replaced by its bcrypt hash. */
export type StoredRouteSpec = Omit<RouteSpec, "basic_auth"> & {
  basic_auth?: { username: string; bcrypt: string };
};

/** The other spelling `www` redirects from: `www.a.com` for `a.com` (to_apex) and the reverse. */
export function wwwPartner(host: string, www: RouteSpec["www"]): string | null {
  if (www === "none" || host.startsWith("*.")) return null;
  if (www === "to_apex") return host.startsWith("www.") ? null : `www.${host}`;
  return host.startsWith("www.") ? host.slice(4) : null;
}
