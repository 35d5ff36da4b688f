import assert from "node:assert/strict";
import { normalizeHostname, RouteSpec, wwwPartner } from "./spec.ts";

Deno.test("route hostnames: IDN to punycode, lower case, no trailing dot; not a name → null", () => {
  assert.equal(normalizeHostname("Bücher.Example."), "xn--bcher-kva.example");
  assert.equal(normalizeHostname("*.Shop.example.com"), "*.shop.example.com");
  for (
    const bad of [
      "",
      "localhost",
      "-a.example",
      "a..example",
      "a b.example",
      "10.0.0.1",
      "a.example/x",
      "x".repeat(64) + ".example",
      "a*.example",
      "user@a.example",
    ]
  ) {
    assert.equal(normalizeHostname(bad), null, bad);
  }
});

Deno.test("route spec: each problem names its field", () => {
  const target = { kind: "app", app: "shop", service: "web", port: 80 };
  const fields = (input: unknown) => {
    const r = RouteSpec.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };
  assert.deepEqual(fields({ hostnames: ["shop.example.com"], target }), []);
  assert.deepEqual(fields({ hostnames: ["nope"], target }), ["hostnames.0"]);
  assert.deepEqual(fields({ hostnames: ["a.example", "A.example."], target }), ["hostnames"]);
  assert.deepEqual(fields({ hostnames: ["a.example"], target, strip_prefix: true }), [
    "strip_prefix",
  ]);
  assert.deepEqual(fields({ hostnames: ["a.example"], target, path_prefix: "/api/" }), [
    "path_prefix",
  ]);
  assert.deepEqual(
    fields({ hostnames: ["a.example"], target, request_headers: { "X-A": "1\r\nX-B: 2" } }),
    ["request_headers.X-A"],
  );
  assert.deepEqual(
    fields({ hostnames: ["a.example"], target, rate_limit: { per_second: 10, burst: 5 } }),
    ["rate_limit.burst"],
  );
  assert.deepEqual(
    fields({ hostnames: ["a.example"], target: { kind: "url", url: "file:///etc/passwd" } }),
    ["target.url"],
  );
  assert.deepEqual(
    fields({
      hostnames: ["a.example"],
      target,
      basic_auth: { username: "a:b", password: "long enough" },
    }),
    ["basic_auth.username"],
  );
  assert.deepEqual(fields({ hostnames: ["a.example"], target, surprise: 1 }), [""]);
});

Deno.test("www partner: the spelling that redirects to the route's hostname", () => {
  assert.equal(wwwPartner("shop.example", "to_apex"), "www.shop.example");
  assert.equal(wwwPartner("www.shop.example", "to_www"), "shop.example");
  assert.equal(wwwPartner("shop.example", "to_www"), null);
  assert.equal(wwwPartner("shop.example", "none"), null);
});

Deno.test("route spec: a TCP or UDP route needs an entry port and carries no hostnames or HTTP options", () => {
  const target = { kind: "app", app: "db", service: "pg", port: 5432 };
  const fields = (input: unknown) => {
    const r = RouteSpec.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };
  assert.deepEqual(
    fields({ protocol: "tcp", entry_port: 5432, target, ip_allow: ["10.0.0.0/8"] }),
    [],
  );
  assert.deepEqual(fields({ protocol: "udp", entry_port: 53, target }), []);
  assert.deepEqual(fields({ protocol: "tcp", target }), ["entry_port"]);
  assert.deepEqual(
    fields({
      protocol: "tcp",
      entry_port: 5432,
      target: { kind: "url", url: "https://a.example" },
      hostnames: ["a.example"],
      path_prefix: "/x",
      basic_auth: { username: "ops", password: "long enough" },
      maintenance: true,
    }),
    ["hostnames", "target", "path_prefix", "basic_auth", "maintenance"],
  );
  assert.deepEqual(fields({ protocol: "udp", entry_port: 53, target, ip_allow: ["10.0.0.0/8"] }), [
    "ip_allow",
  ]);
  assert.deepEqual(fields({ target }), ["hostnames"]);
  assert.deepEqual(fields({ hostnames: ["a.example"], entry_port: 80, target }), ["entry_port"]);
});
