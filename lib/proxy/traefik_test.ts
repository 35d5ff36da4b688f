import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { parse } from "yaml";
import { renderTraefik, type TraefikSettings } from "./traefik.ts";
import { TraefikDynamicConfig } from "./testdata/traefik_schema.ts";
import {
  everyOptionRoutes,
  FIXED_BCRYPT,
  storedRoute,
  TEST_TARGET,
} from "../../tests/support/proxy_routes.ts";

const SETTINGS: TraefikSettings = {
  certResolver: "letsencrypt",
  entryPoints: { web: "web", websecure: "websecure" },
};
const GOLDEN_DIR = new URL("./testdata/traefik/", import.meta.url);

/** Each org's file parsed back and checked against Traefik v3's structure. */
function parsed(files: Map<string, string>): Map<string, TraefikDynamicConfig> {
  const out = new Map<string, TraefikDynamicConfig>();
  for (const [org, yaml] of files) {
    // Traefik's reader must see the same values a YAML 1.1 reader would (`no` is not false).
    assert.deepEqual(parse(yaml, { version: "1.1" }), parse(yaml), `${org}: YAML 1.1 reading`);
    const result = TraefikDynamicConfig.safeParse(parse(yaml));
    assert.ok(
      result.success,
      `${org}: ${result.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
    out.set(org, result.data);
  }
  return out;
}

/** What a router, service or middleware names exists in the same file (or is Traefik's own). */
function assertReferencesResolve(org: string, c: TraefikDynamicConfig) {
  const entryPoints = new Set(Object.values(SETTINGS.entryPoints));
  for (const [name, r] of Object.entries(c.http?.routers ?? {})) {
    assert.ok(r.service === "noop@internal" || c.http?.services?.[r.service], `${name} service`);
    for (const m of r.middlewares ?? []) assert.ok(c.http?.middlewares?.[m], `${name} uses ${m}`);
    for (const e of r.entryPoints ?? []) assert.ok(entryPoints.has(e), `${name} entry point ${e}`);
    assert.match(name, /^capstan-[a-z]+(-[a-z0-9-]+)?$/);
  }
  for (const [name, s] of Object.entries(c.http?.services ?? {})) {
    const transport = s.loadBalancer?.serversTransport;
    if (transport) assert.ok(c.http?.serversTransports?.[transport], `${name} transport`);
  }
  for (const [name, r] of Object.entries(c.tcp?.routers ?? {})) {
    assert.ok(c.tcp?.services?.[r.service], `${org} ${name} service`);
    for (const m of r.middlewares ?? []) assert.ok(c.tcp?.middlewares?.[m], `${name} uses ${m}`);
  }
  for (const [name, r] of Object.entries(c.udp?.routers ?? {})) {
    assert.ok(c.udp?.services?.[r.service], `${org} ${name} service`);
  }
}

Deno.test("renderTraefik() matches the golden files, which parse back as Traefik v3 file-provider configuration", async () => {
  const { files, unsupported } = renderTraefik(everyOptionRoutes(), SETTINGS);
  assert.deepEqual([...files.keys()], ["org_blog", "org_shop"]);
  assert.deepEqual(unsupported, []);
  for (const [org, yaml] of files) {
    const golden = new URL(`capstan-${org}.yml`, GOLDEN_DIR);
    if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(golden, yaml);
    assert.equal(yaml, await Deno.readTextFile(golden), `${org} differs from its golden file`);
  }
  for (const [org, config] of parsed(files)) assertReferencesResolve(org, config);
});

Deno.test("renderTraefik() maps each route option to its Traefik v3 middleware, service or router", () => {
  const { files } = renderTraefik(everyOptionRoutes(), { ...SETTINGS, httpsPort: 8443 });
  const shop = parsed(files).get("org_shop")!;
  const http = shop.http!;
  const mw = (name: string) => http.middlewares![name];

  // Hostnames (IDN as punycode) and path prefixes; TLS per hostname.
  assert.equal(
    http.routers!["capstan-web-acme"].rule,
    "(Host(`shop.example.com`) || Host(`xn--bcher-kva.example`))",
  );
  assert.deepEqual(http.routers!["capstan-web-acme"].tls, { certResolver: "letsencrypt" });
  assert.deepEqual(http.routers!["capstan-admin"].tls, {}, "internal → Traefik's default cert");
  assert.equal(
    http.routers!["capstan-api-acme"].rule,
    "Host(`shop.example.com`) && (Path(`/api`) || PathPrefix(`/api/`))",
  );
  assert.ok(
    http.routers!["capstan-api-acme"].priority! > http.routers!["capstan-web-acme"].priority!,
    "the longer path prefix wins",
  );
  const wildcard = http.routers!["capstan-wild"].rule.match(/^HostRegexp\(`(.*)`\)$/)![1];
  assert.ok(new RegExp(wildcard).test("a.apps.example.com"));
  assert.ok(!new RegExp(wildcard).test("a.b.apps.example.com"), "one label, as in Caddy");
  assert.ok(http.routers!["capstan-wild"].priority! < http.routers!["capstan-admin"].priority!);

  // TLS off: the web entry point only; a secure route without redirect is served on both.
  assert.deepEqual(http.routers!["capstan-plain-web"].entryPoints, ["web"]);
  assert.equal(http.routers!["capstan-plain-web"].tls, undefined);
  assert.equal(http.routers!["capstan-plain"], undefined);
  assert.equal(http.routers!["capstan-both-web"].service, "capstan-both");
  assert.equal(http.routers!["capstan-both-to-https"], undefined);

  // HTTPS redirect on the web entry point, to the public HTTPS port.
  assert.deepEqual(http.routers!["capstan-web-to-https"].middlewares, ["capstan-web-to-https"]);
  assert.deepEqual(http.routers!["capstan-web-to-https"].entryPoints, ["web"]);
  assert.deepEqual(mw("capstan-web-to-https").redirectScheme, {
    scheme: "https",
    port: "8443",
    permanent: true,
  });

  // www → apex, keeping the path: Traefik matches the regex against the whole URL.
  const www = mw("capstan-web-www-0").redirectRegex!;
  assert.equal(http.routers!["capstan-web-www-0"].rule, "Host(`www.shop.example.com`)");
  assert.equal(
    "https://www.shop.example.com/a/b?c=1".replace(
      new RegExp(www.regex),
      www.replacement.replace("${1}", "$1"),
    ),
    "https://shop.example.com:8443/a/b?c=1",
  );

  // Strip prefix, body limit, IP allow list (v3's name), in the order a request meets them.
  assert.deepEqual(http.routers!["capstan-api-acme"].middlewares, [
    "capstan-api-ip-allow",
    "capstan-api-body-limit",
    "capstan-api-strip-prefix",
  ]);
  assert.deepEqual(mw("capstan-api-strip-prefix").stripPrefix, { prefixes: ["/api"] });
  assert.deepEqual(mw("capstan-api-body-limit").buffering, { maxRequestBodyBytes: 1_048_576 });
  assert.deepEqual(mw("capstan-api-ip-allow").ipAllowList, {
    sourceRange: ["10.0.0.0/8", "2001:db8::/32"],
  });

  // Headers, rate limit.
  assert.deepEqual(mw("capstan-web-headers").headers, {
    customRequestHeaders: { "X-From-Proxy": "capstan", "X-Use-Cache": "no" },
    customResponseHeaders: {
      "X-Frame-Options": "DENY",
      "Strict-Transport-Security": "max-age=300",
    },
  });
  assert.deepEqual(mw("capstan-web-rate-limit").rateLimit, {
    average: 20,
    period: "1s",
    burst: 50,
  });

  // Basic auth: the stored bcrypt hash in htpasswd form, still verifying the password.
  const [user] = mw("capstan-admin-basic-auth").basicAuth!.users!;
  const [name, hash] = [user.slice(0, user.indexOf(":")), user.slice(user.indexOf(":") + 1)];
  assert.equal(name, "ops");
  assert.match(hash, /^\$2y\$04\$/);
  assert.equal(hash.slice(4), FIXED_BCRYPT.slice(4));
  assert.ok(bcrypt.compareSync("correct horse", hash));

  // Maintenance: the IP allow list still guards; no auth; a server-less service answers 503.
  assert.deepEqual(http.routers!["capstan-closed"].middlewares, ["capstan-closed-ip-allow"]);
  assert.equal(http.routers!["capstan-closed"].service, "capstan-closed-maintenance");
  assert.deepEqual(http.services!["capstan-closed-maintenance"].loadBalancer!.servers, []);

  // Upstreams; a URL target over TLS with its Host header and certificate name.
  assert.deepEqual(http.services!["capstan-web"].loadBalancer!.servers, [
    { url: "http://10.0.1.5:8080" },
    { url: "http://10.0.1.6:8080" },
  ]);
  assert.deepEqual(http.services!["capstan-ext"].loadBalancer!.servers, [
    { url: "https://198.51.100.7:443" },
  ]);
  assert.deepEqual(http.serversTransports!["capstan-ext"], { serverName: "docs.vendor.test" });
  assert.deepEqual(mw("capstan-ext-headers").headers!.customRequestHeaders, {
    Host: "docs.vendor.test",
  });

  // TCP and UDP.
  assert.deepEqual(shop.tcp!.routers!["capstan-db"], {
    entryPoints: ["tcp-5432"],
    rule: "HostSNI(`*`)",
    middlewares: ["capstan-db-ip-allow"],
    service: "capstan-db",
  });
  assert.deepEqual(shop.tcp!.services!["capstan-db"].loadBalancer!.servers, [
    { address: "10.0.1.8:5432" },
  ]);
  assert.deepEqual(shop.udp!.routers!["capstan-dns"], {
    entryPoints: ["udp-53"],
    service: "capstan-dns",
  });
});

Deno.test("renderTraefik() without a certificate resolver serves ACME hostnames with the default certificate and says so", () => {
  const route = storedRoute(
    "r1",
    { hostnames: ["a.example.com"], target: TEST_TARGET },
    [
      "10.0.0.1:80",
    ],
    "acme",
    { org_id: "o1" },
  );
  const { files, unsupported } = renderTraefik([route], { entryPoints: SETTINGS.entryPoints });
  assert.deepEqual(parsed(files).get("o1")!.http!.routers!["capstan-r1-acme"].tls, {});
  assert.deepEqual(unsupported.map((u) => [u.route_id, u.field]), [["r1", "tls"]]);
});

Deno.test("renderTraefik() refuses a route without an organization, or an id Traefik or a file name cannot hold", () => {
  const route = (id: string, org?: string) =>
    storedRoute(id, { hostnames: ["a.example.com"], target: TEST_TARGET }, [], "off", {
      org_id: org,
    });
  assert.throws(() => renderTraefik([route("r1")], SETTINGS), /organization/);
  assert.throws(() => renderTraefik([route("r1", "../etc")], SETTINGS), /organization/);
  assert.throws(() => renderTraefik([route("r@file", "o1")], SETTINGS), /route/);
  assert.deepEqual([...renderTraefik([], SETTINGS).files.keys()], []);
});

Deno.test("the Traefik v3 schema refuses keys Traefik does not know", () => {
  const ok = { http: { middlewares: { m: { ipAllowList: { sourceRange: ["10.0.0.0/8"] } } } } };
  assert.ok(TraefikDynamicConfig.safeParse(ok).success);
  for (
    const bad of [
      { http: { middlewares: { m: { ipWhiteList: { sourceRange: ["10.0.0.0/8"] } } } } },
      { http: { middlewares: { m: { ipAllowList: { sourceRanges: ["10.0.0.0/8"] } } } } },
      { http: { routers: { r: { rule: "Host(`a`)", service: "s", entrypoints: ["web"] } } } },
      { http: { services: { s: { loadBalancer: { servers: [{ address: "a:1" }] } } } } },
      { http: { middlewares: { m: { headers: {}, stripPrefix: { prefixes: ["/a"] } } } } },
      { tcp: { routers: { r: { rule: "HostSNI(`*`)", service: "s", tls: { resolver: "x" } } } } },
    ]
  ) {
    assert.ok(!TraefikDynamicConfig.safeParse(bad).success, JSON.stringify(bad));
  }
});
