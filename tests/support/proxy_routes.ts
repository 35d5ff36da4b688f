/**
 * Routes for the proxy renderers' tests: one built as the store will (the spec parsed, the
 * basic-auth password hashed), and a fixed set covering every route option for golden files.
 */
import bcrypt from "bcryptjs";
import type { RenderRoute, TlsMode } from "../../lib/proxy/caddy_config.ts";
import { RouteSpec, type RouteSpecInput, type StoredRouteSpec } from "../../lib/proxy/spec.ts";

/** A stored route from what a user writes; `bcrypt` fixes the hash (golden files need one). */
export function storedRoute(
  id: string,
  input: RouteSpecInput,
  upstreams: string[],
  tls: TlsMode,
  extra: Partial<RenderRoute> & { bcrypt?: string } = {},
): RenderRoute {
  const spec = RouteSpec.parse(input);
  const { basic_auth, ...rest } = spec;
  const stored: StoredRouteSpec = basic_auth
    ? {
      ...rest,
      basic_auth: {
        username: basic_auth.username,
        bcrypt: extra.bcrypt ?? bcrypt.hashSync(basic_auth.password, 4),
      },
    }
    : rest;
  const hosts: Record<string, TlsMode> = {};
  for (const h of stored.hostnames) hosts[h] = tls;
  const { bcrypt: _, ...more } = extra;
  return { id, spec: stored, upstreams, tls: hosts, ...more };
}

export const TEST_TARGET = { kind: "app", app: "shop", service: "web", port: 80 } as const;

/** bcryptjs's hash of "correct horse" (cost 4), fixed so the golden files stay put. */
export const FIXED_BCRYPT = "$2b$04$6uTUtBHhVfsZGykNAf.ncOoncv5Lj8bGUaHwRPEg9VcRx3Kk1ft4G";

/** Two organizations' routes that between them use every option of the route spec. */
export function everyOptionRoutes(): RenderRoute[] {
  const shop = { org_id: "org_shop" };
  const a = "10.0.1.5:8080";
  const b = "10.0.1.6:8080";
  return [
    storedRoute(
      "web",
      {
        hostnames: ["shop.example.com", "Bücher.example"],
        target: TEST_TARGET,
        www: "to_apex",
        // "no" is false to a YAML 1.1 reader unless quoted.
        request_headers: { "X-From-Proxy": "capstan", "X-Use-Cache": "no" },
        response_headers: { "X-Frame-Options": "DENY", "Strict-Transport-Security": "max-age=300" },
        rate_limit: { per_second: 20, burst: 50 },
      },
      [a, b],
      "acme",
      shop,
    ),
    storedRoute(
      "api",
      {
        hostnames: ["shop.example.com"],
        path_prefix: "/api",
        strip_prefix: true,
        target: { kind: "app", app: "shop", service: "api", port: 3000 },
        max_body_bytes: 1_048_576,
        ip_allow: ["10.0.0.0/8", "2001:db8::/32"],
      },
      ["10.0.1.7:3000"],
      "acme",
      shop,
    ),
    storedRoute(
      "admin",
      {
        hostnames: ["admin.example.com"],
        target: TEST_TARGET,
        basic_auth: { username: "ops", password: "correct horse" },
      },
      [a],
      "internal",
      { ...shop, bcrypt: FIXED_BCRYPT },
    ),
    storedRoute(
      "closed",
      {
        hostnames: ["closed.example.com"],
        target: TEST_TARGET,
        maintenance: true,
        ip_allow: ["192.0.2.0/24"],
        basic_auth: { username: "ops", password: "correct horse" },
      },
      [a],
      "internal",
      { ...shop, bcrypt: FIXED_BCRYPT },
    ),
    storedRoute(
      "plain",
      {
        hostnames: ["plain.example.com"],
        target: TEST_TARGET,
        https_redirect: false,
      },
      [a],
      "off",
      shop,
    ),
    storedRoute(
      "both",
      {
        hostnames: ["both.example.com"],
        target: TEST_TARGET,
        https_redirect: false,
      },
      [a],
      "internal",
      shop,
    ),
    storedRoute(
      "empty",
      { hostnames: ["empty.example.com"], target: TEST_TARGET },
      [],
      "internal",
      {
        ...shop,
      },
    ),
    storedRoute(
      "wild",
      { hostnames: ["*.apps.example.com"], target: TEST_TARGET },
      [a],
      "internal",
      {
        ...shop,
      },
    ),
    storedRoute(
      "ext",
      {
        hostnames: ["docs.example.com"],
        target: { kind: "url", url: "https://docs.vendor.test/" },
      },
      ["198.51.100.7:443"],
      "acme",
      { ...shop, upstreamTls: true, upstreamHost: "docs.vendor.test" },
    ),
    storedRoute(
      "db",
      {
        protocol: "tcp",
        entry_port: 5432,
        target: { kind: "app", app: "shop", service: "db", port: 5432 },
        ip_allow: ["10.0.0.0/8"],
      },
      ["10.0.1.8:5432"],
      "off",
      shop,
    ),
    storedRoute(
      "dns",
      {
        protocol: "udp",
        entry_port: 53,
        target: { kind: "container", host_id: "h1", container: "dns", port: 53 },
      },
      ["10.0.1.9:53"],
      "off",
      shop,
    ),
    storedRoute(
      "blog",
      {
        hostnames: ["www.blog.example.org"],
        target: { kind: "app", app: "blog", service: "web", port: 80 },
        www: "to_www",
      },
      ["10.0.2.5:80"],
      "internal",
      { org_id: "org_blog" },
    ),
  ];
}

/**
 * Routes on `*.capstan.test` that each exercise one option, for tests that ask a real Caddy: `a`
 * and `b` are upstream addresses (the API route goes to `b`).
 */
export function optionRoutes(a: string, b: string): RenderRoute[] {
  return [
    storedRoute(
      "plain",
      { hostnames: ["plain.capstan.test"], target: TEST_TARGET, https_redirect: false },
      [a],
      "off",
    ),
    storedRoute(
      "secure",
      {
        hostnames: ["shop.capstan.test"],
        target: TEST_TARGET,
        www: "to_apex",
        // A placeholder in a user's value must reach the app as written, not expanded.
        request_headers: { "X-From-Proxy": "capstan", "X-Literal": "{env.HOME}" },
        response_headers: { "X-Frame-Options": "DENY" },
      },
      [a],
      "internal",
    ),
    storedRoute(
      "api",
      {
        hostnames: ["shop.capstan.test"],
        path_prefix: "/api",
        strip_prefix: true,
        target: TEST_TARGET,
        max_body_bytes: 2048,
      },
      [b],
      "internal",
    ),
    storedRoute(
      "private",
      {
        hostnames: ["admin.capstan.test"],
        target: TEST_TARGET,
        basic_auth: { username: "ops", password: "correct horse" },
      },
      [a],
      "internal",
    ),
    storedRoute(
      "walled",
      { hostnames: ["walled.capstan.test"], target: TEST_TARGET, ip_allow: ["10.0.0.0/8"] },
      [a],
      "internal",
    ),
    storedRoute(
      "open",
      { hostnames: ["open.capstan.test"], target: TEST_TARGET, ip_allow: ["127.0.0.0/8"] },
      [a],
      "internal",
    ),
    storedRoute("closed", {
      hostnames: ["closed.capstan.test"],
      target: TEST_TARGET,
      maintenance: true,
    }, [
      a,
    ], "internal"),
    storedRoute(
      "empty",
      { hostnames: ["empty.capstan.test"], target: TEST_TARGET },
      [],
      "internal",
    ),
  ];
}
