import assert from "node:assert/strict";
import { AppSpec, type AppSpecInput, startOrder } from "./spec.ts";
import { networkNames, swarmServiceName, toSwarmService } from "./swarm_spec.ts";
import { serviceBody } from "../docker/services.ts";
import { diffSpecs } from "./diff.ts";
import { policyProblems } from "./policy.ts";

const web = { name: "web", image: "capstan-test/busybox:latest" };

function problems(input: AppSpecInput): Record<string, string> {
  const r = AppSpec.safeParse(input);
  if (r.success) return {};
  return Object.fromEntries(r.error.issues.map((i) => [i.path.join("."), i.message]));
}

Deno.test("AppSpec behaviour: defaults are a zero-downtime single replica", () => {
  const spec = AppSpec.parse({ services: [web] });
  const s = spec.services[0];
  assert.equal(s.replicas, 1);
  assert.equal(s.update.order, "start-first");
  assert.equal(s.update.failure_action, "rollback");
  assert.ok(s.update.monitor_s > 0);
  assert.deepEqual(s.env, {});
  assert.equal(s.restart.condition, "any");
});

Deno.test("AppSpec behaviour: rules across fields answer with the field and a sentence", () => {
  assert.deepEqual(
    problems({
      services: [{
        ...web,
        resources: {
          limits: { memory_bytes: 64 << 20 },
          reservations: { memory_bytes: 128 << 20 },
        },
      }],
    }),
    { "services.0.resources.limits.memory_bytes": "memory limit below reservation" },
  );
  assert.deepEqual(problems({ services: [web, web] }), {
    "services.1.name": 'service name "web" is used twice',
  });
  assert.deepEqual(
    problems({
      services: [
        { ...web, ports: [{ target: 80, published: 8080 }] },
        { ...web, name: "api", ports: [{ target: 81, published: 8080 }] },
      ],
    }),
    { "services.1.ports.0.published": "port 8080 is already published by service web" },
  );
  assert.deepEqual(problems({ services: [{ ...web, depends_on: ["db"] }] }), {
    "services.0.depends_on.0": 'no service named "db" in this app',
  });
  assert.match(
    problems({
      services: [{ ...web, depends_on: ["api"] }, { ...web, name: "api", depends_on: ["web"] }],
    }).services,
    /cycle: web → api → web/,
  );
  for (
    const [input, field] of [
      [{ services: [] }, "services"],
      [{ services: [{ ...web, name: "Web" }] }, "services.0.name"],
      [{ services: [{ ...web, image: "not an image" }] }, "services.0.image"],
      [{ services: [{ ...web, command: "sh -c id" }] }, "services.0.command"],
      [{ services: [{ ...web, env: { "1BAD": "x" } }] }, "services.0.env.1BAD"],
      [{ services: [{ ...web, ports: [{ target: 70000 }] }] }, "services.0.ports.0.target"],
      [{ services: [{ ...web, replicas: 101 }] }, "services.0.replicas"],
      [{ services: [{ ...web, surprise: 1 }] }, "services.0"],
      [
        { services: [{ ...web, placement: { constraints: ["rm -rf /"] } }] },
        "services.0.placement.constraints.0",
      ],
    ] as [unknown, string][]
  ) {
    assert.ok(field in problems(input as AppSpecInput), `expected a problem at ${field}`);
  }
});

Deno.test("startOrder() behaviour: dependencies come first", () => {
  const spec = AppSpec.parse({
    services: [
      { ...web, depends_on: ["api"] },
      { ...web, name: "api", depends_on: ["db"] },
      { ...web, name: "db" },
    ],
  });
  assert.deepEqual(startOrder(spec.services).map((s) => s.name), ["db", "api", "web"]);
});

Deno.test("toSwarmService() behaviour: labels, networks, names and endpoint mode", () => {
  const spec = AppSpec.parse({
    services: [{
      ...web,
      env: { A: "1" },
      ports: [{ target: 80, published: 8080, mode: "host" }],
      resources: { limits: { cpus: 0.5, memory_bytes: 64 << 20 } },
      health_check: { cmd: ["true"], interval_s: 2 },
    }],
  });
  const org = { id: "018f-org", slug: "acme" };
  const app = { id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", name: "shop" };
  const networks = networkNames(org, app);
  const svc = toSwarmService(spec.services[0], {
    org,
    app,
    deploymentId: "dep1",
    networks,
    routingMesh: false,
    images: { web: "capstan-test/busybox@sha256:" + "a".repeat(64) },
  });
  assert.equal(svc.name, "acme_shop_web");
  assert.equal(svc.labels?.["capstan.app"], app.id);
  assert.equal(svc.labels?.["capstan.deployment"], "dep1");
  assert.equal(svc.image, "capstan-test/busybox@sha256:" + "a".repeat(64));
  assert.deepEqual(svc.networks, [
    { target: networks.app, aliases: ["web"] },
    { target: networks.org, aliases: ["web.shop"] },
  ]);
  assert.equal(svc.endpointMode, "dnsrr");
  assert.deepEqual(svc.healthcheck?.test, ["CMD", "true"]);
  assert.equal(svc.limits?.nanoCpus, 500_000_000);
  // What the mapping builds is what the Docker layer accepts.
  const body = serviceBody(svc);
  assert.equal(body.EndpointSpec?.Mode, "dnsrr");
  // A host-mode port cannot be bound twice on a node: its tasks are replaced stop-first.
  assert.equal(body.UpdateConfig?.Order, "stop-first");
  const internal = toSwarmService(AppSpec.parse({ services: [web] }).services[0], {
    org,
    app,
    deploymentId: "dep1",
    networks,
    routingMesh: false,
  });
  assert.equal(serviceBody(internal).UpdateConfig?.Order, "start-first");

  const long = swarmServiceName(
    { slug: "a".repeat(40) },
    { id: app.id, name: "b".repeat(30) },
    "c".repeat(20),
  );
  assert.ok(long.length <= 63, long);
  assert.match(long, /_0c1d2e3f4a5b$|_[0-9a-f]{10}$/);
});

Deno.test("diffSpecs() behaviour: names what changed, env by key", () => {
  const a = AppSpec.parse({ services: [{ ...web, env: { A: "1", B: "2" }, replicas: 2 }] });
  const b = AppSpec.parse({
    services: [
      { ...web, image: "capstan-test/busybox:v2", env: { A: "9", C: "3" }, replicas: 3 },
      { ...web, name: "worker" },
    ],
  });
  const d = diffSpecs(a, b);
  assert.deepEqual(d.added, ["worker"]);
  assert.deepEqual(d.removed, []);
  const changes = d.changed[0].changes;
  assert.deepEqual(changes.map((c) => c.field), ["image", "env", "replicas"]);
  assert.deepEqual(changes[1], { field: "env", added: ["C"], removed: ["B"], changed: ["A"] });
  assert.deepEqual(diffSpecs(a, a), { added: [], removed: [], changed: [], secrets: [] });
  // The same tag resolving to another image is a change.
  assert.equal(
    diffSpecs(a, a, { from: { web: "sha256:1" }, to: { web: "sha256:2" } }).changed[0].changes[0]
      .field,
    "image",
  );
});

Deno.test("policyProblems() behaviour: members may not reach the host, nobody runs privileged", () => {
  const spec = AppSpec.parse({
    services: [{
      ...web,
      network_mode: "host",
      binds: ["/etc:/host-etc:ro"],
      cap_add: ["NET_ADMIN"],
      privileged: true,
    }],
  });
  const member = policyProblems({ role: "member" }, spec);
  assert.deepEqual(
    member.map((p) => [p.path, p.status]),
    [
      ["services.0.privileged", 400],
      ["services.0.network_mode", 403],
      ["services.0.binds", 403],
      ["services.0.cap_add", 403],
    ],
  );
  assert.deepEqual(
    policyProblems({ role: "admin" }, spec).map((p) => p.path),
    ["services.0.privileged"],
  );
  assert.equal(
    policyProblems({ role: "admin", tokenScope: "read" }, spec).length,
    4,
    "a read token is never an admin",
  );
});

Deno.test("AppSpec secrets: env and/or file, clashes named, defaults of a file mount", () => {
  const spec = AppSpec.parse({
    services: [{ ...web, secrets: [{ secret: "DB_PASSWORD", env: "DB_PASSWORD", file: {} }] }],
  });
  assert.deepEqual(spec.services[0].secrets[0].file, { uid: "0", gid: "0", mode: 0o400 });
  assert.deepEqual(problems({ services: [{ ...web, secrets: [{ secret: "X" }] }] }), {
    "services.0.secrets.0.env": "give env, file or both",
  });
  assert.deepEqual(
    problems({
      services: [{
        ...web,
        env: { TOKEN: "plain" },
        volumes: [{ name: "data", target: "/run/secrets/KEY" }],
        secrets: [
          { secret: "TOKEN", env: "TOKEN" },
          { secret: "KEY", file: {} },
          { secret: "KEY", file: { target: "/etc/key" } },
          { secret: "9bad", env: "OK" },
        ],
      }],
    }),
    {
      "services.0.secrets.0.env": "TOKEN is already set in env",
      "services.0.secrets.1.file.target": "/run/secrets/KEY is mounted twice",
      "services.0.secrets.2.file": "KEY is already mounted as a file in this service",
      "services.0.secrets.3.secret":
        "must be a secret name: letters, digits or _, not starting with a digit",
    },
  );
});

Deno.test("toSwarmService() secrets: files by Swarm secret with mode and owner, env values, and the label that masks them", () => {
  const spec = AppSpec.parse({
    services: [{
      ...web,
      env: { PLAIN: "1" },
      secrets: [
        { secret: "API_KEY", env: "API_KEY" },
        { secret: "TLS", file: { target: "/etc/tls/key.pem", uid: "101", mode: 0o440 } },
      ],
    }],
  });
  const org = { id: "o1", slug: "acme" };
  const app = { id: "a1", name: "shop" };
  const s = toSwarmService(spec.services[0], {
    org,
    app,
    deploymentId: "d1",
    networks: networkNames(org, app),
    routingMesh: false,
    secrets: {
      API_KEY: { swarmId: "aaaaaaaaaaaaaaaaaaaaaaaaa", swarmName: "capstan_x_v1", text: "k-123" },
      TLS: { swarmId: "bbbbbbbbbbbbbbbbbbbbbbbbb", swarmName: "capstan_y_v2" },
    },
  });
  assert.deepEqual(s.env, { PLAIN: "1", API_KEY: "k-123" });
  assert.equal(s.containerLabels?.["capstan.secret_env"], "API_KEY");
  const body = serviceBody(s);
  assert.deepEqual(body.TaskTemplate.ContainerSpec.Secrets, [{
    SecretID: "bbbbbbbbbbbbbbbbbbbbbbbbb",
    SecretName: "capstan_y_v2",
    File: { Name: "/etc/tls/key.pem", UID: "101", GID: "0", Mode: 0o440 },
  }]);
  // A secret the deployment did not resolve never silently drops out of the spec.
  assert.throws(
    () =>
      toSwarmService(spec.services[0], {
        org,
        app,
        deploymentId: "d1",
        networks: networkNames(org, app),
        routingMesh: false,
      }),
    /API_KEY was not resolved/,
  );
});

Deno.test("diffSpecs() names secret version changes, never values", () => {
  const spec = AppSpec.parse({ services: [{ ...web, secrets: [{ secret: "A", env: "A" }] }] });
  const d = diffSpecs(spec, spec, {}, {
    from: { A: { version: 3 }, GONE: { version: 1 } },
    to: { A: { version: 4 }, NEW: { version: 1 } },
  });
  assert.deepEqual(d.secrets, [
    { secret: "A", from: 3, to: 4 },
    { secret: "GONE", from: 1, to: null },
    { secret: "NEW", from: null, to: 1 },
  ]);
  assert.deepEqual(d.changed, []);
});
