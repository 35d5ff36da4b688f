import assert from "node:assert/strict";
import { renderCaddyfile } from "./caddyfile.ts";
import { renderCaddyConfig, type RenderSettings } from "./caddy_config.ts";
import {
  everyOptionRoutes,
  FIXED_BCRYPT,
  storedRoute,
  TEST_TARGET,
} from "../../tests/support/proxy_routes.ts";
import { adaptCaddyfile } from "../../tests/support/caddy.ts";

const SETTINGS: RenderSettings = {
  adminListen: "127.0.0.1:2019",
  httpPort: 8080,
  httpsPort: 8443,
  acme: { email: "ops@example.com" },
};
const GOLDEN = new URL("./testdata/capstan.Caddyfile", import.meta.url);

// deno-lint-ignore no-explicit-any
type Json = any;

/** Every object in a JSON tree that has `key`. */
function findAll(tree: Json, key: string): Json[] {
  const out: Json[] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      if (key in v) out.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(tree);
  return out;
}

const hostsOf = (config: Json) =>
  new Set(findAll(config, "host").flatMap((m) => (Array.isArray(m.host) ? m.host : [])));
const handlersOf = (config: Json) => findAll(config, "handler");

Deno.test("renderCaddyfile() matches its golden file; Caddy adapts it without error or warning", async () => {
  const caddyfile = renderCaddyfile(everyOptionRoutes(), SETTINGS);
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(GOLDEN, caddyfile);
  assert.equal(caddyfile, await Deno.readTextFile(GOLDEN));
  const { warnings } = await adaptCaddyfile(caddyfile);
  assert.doesNotMatch(warnings, /warn|error/i, warnings);
});

Deno.test("renderCaddyfile() adapts to the hosts and handlers of the JSON renderer", async () => {
  const routes = everyOptionRoutes();
  const { config } = await adaptCaddyfile(renderCaddyfile(routes, SETTINGS));
  const json = renderCaddyConfig(routes, SETTINGS).config;

  // The same hostnames are served (www partners included), on the configured ports.
  assert.deepEqual([...hostsOf(config)].sort(), [...hostsOf(json)].sort());
  const app = (config as Json).apps.http;
  assert.deepEqual([app.http_port, app.https_port], [8080, 8443]);

  const handlers = handlersOf(config);
  const of = (name: string) => handlers.filter((h) => h.handler === name);
  // Upstreams, with the JSON renderer's load balancing; a URL target's TLS and Host.
  const dials = of("reverse_proxy").flatMap((h) => h.upstreams.map((u: Json) => u.dial));
  for (const dial of ["10.0.1.5:8080", "10.0.1.6:8080", "10.0.1.7:3000", "198.51.100.7:443"]) {
    assert.ok(dials.includes(dial), dial);
  }
  const ext = of("reverse_proxy").find((h) => h.upstreams[0].dial === "198.51.100.7:443");
  assert.deepEqual(ext.transport.tls, {});
  assert.deepEqual(ext.headers.request.set.Host, ["docs.vendor.test"]);
  assert.equal(ext.load_balancing.try_duration, 5_000_000_000);
  // Basic auth with the stored hash, strip prefix, body limit, headers (response deferred).
  const account = of("authentication")[0].providers.http_basic.accounts[0];
  assert.deepEqual([account.username, atob(account.password)], ["ops", FIXED_BCRYPT]);
  assert.ok(of("rewrite").some((h) => h.strip_path_prefix === "/api"));
  assert.ok(of("request_body").some((h) => h.max_size === 1_048_576));
  assert.ok(of("headers").some((h) => h.request?.set?.["X-From-Proxy"]?.[0] === "capstan"));
  assert.ok(of("headers").some((h) => h.response?.deferred && h.response.set["X-Frame-Options"]));
  // Maintenance 503, nothing behind a route 502, IP allow list 403, www redirects 308.
  const statuses = of("static_response").map((h) => String(h.status_code));
  for (const s of ["503", "502", "403", "404", "308"]) assert.ok(statuses.includes(s), s);
  const ranges = findAll(config, "remote_ip").flatMap((m) => m.remote_ip.ranges);
  assert.deepEqual([...new Set(ranges)].sort(), ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]);
  // TLS: the internal issuer for `internal` hostnames, ACME with the email for the others.
  const policies: Json[] = (config as Json).apps.tls.automation.policies;
  const internal = policies.find((p) => p.issuers?.[0]?.module === "internal");
  assert.ok(internal.subjects.includes("admin.example.com"));
  assert.ok(!internal.subjects.includes("shop.example.com"));
  assert.ok(JSON.stringify(policies).includes("ops@example.com"));
});

Deno.test("renderCaddyfile() writes placeholders in header values literally and leaves out what Caddy would take for an environment variable", async () => {
  const route = storedRoute(
    "r1",
    {
      hostnames: ["a.example.com"],
      target: TEST_TARGET,
      request_headers: {
        "X-Placeholder": "{env.HOME}",
        "X-Quoted": 'say "hi" \\o/',
        "X-Env": "{$HOME}",
        "X-Both": "`{x}`",
      },
    },
    ["10.0.0.1:80"],
    "internal",
  );
  const caddyfile = renderCaddyfile([route], SETTINGS);
  assert.ok(!caddyfile.includes("{$"));
  assert.match(caddyfile, /# header X-Env left out/);
  assert.match(caddyfile, /# header X-Both left out/);
  // Once per server (HTTP and HTTPS): the same two header handlers.
  const headers = new Set(
    handlersOf((await adaptCaddyfile(caddyfile)).config)
      .filter((h) => h.handler === "headers").map((h) => JSON.stringify(h.request.set)),
  );
  assert.deepEqual([...headers].map((h) => JSON.parse(h)), [
    { "X-Placeholder": ["\\{env.HOME\\}"] },
    { "X-Quoted": ['say "hi" \\o/'] },
  ]);
});
