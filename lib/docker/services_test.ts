import assert from "node:assert/strict";
import { createDockerClient, type DockerClient, DockerInputError } from "./client.ts";
import { serviceBody, serviceLogDetails, type ServiceSpec } from "./services.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
  testRunFilters,
  withDocker,
} from "./testing.ts";

const SUITE = "docker-services";
const ignore = dockerTestsIgnored(SUITE);

/** A free TCP port on loopback (closed again, so the engine can bind it). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** busybox httpd serving one line that names the task, so requests show which replica answered. */
function httpdSpec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: TEST_IMAGE,
    labels: testLabels(SUITE),
    command: ["sh", "-c"],
    args: [
      'mkdir -p /www && echo "$GREETING $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www',
    ],
    env: { GREETING: "hello" },
    stopGracePeriodMs: 1000,
    ...extra,
  };
}

async function running(docker: DockerClient, service: string): Promise<number> {
  const tasks = await docker.listTasks({
    filters: { service: [service], "desired-state": ["running"] },
  });
  return tasks.filter((t) => t.Status.State === "running").length;
}

Deno.test("serviceBody() behaviour: maps the spec and refuses what the engine would trust", () => {
  const body = serviceBody({
    name: "web",
    image: "registry.example/shop:1.2",
    command: ["/bin/server"],
    args: ["--port", "8080"],
    env: { A: "1" },
    volumes: [{ name: "shop-data", target: "/data" }],
    limits: { nanoCpus: 500_000_000, memoryBytes: 256 << 20 },
    reservations: { memoryBytes: 64 << 20 },
    restart: { condition: "on-failure", maxAttempts: 3 },
    constraints: ["node.labels.disk==ssd", "node.role != manager"],
    replicas: 2,
    update: { parallelism: 1, order: "start-first", failureAction: "rollback", monitorMs: 5000 },
    ports: [{ target: 8080, published: 80, mode: "host" }],
    healthcheck: { test: ["CMD", "true"], intervalMs: 2000 },
  });
  assert.deepEqual(body.Mode, { Replicated: { Replicas: 2 } });
  assert.deepEqual(body.TaskTemplate.ContainerSpec.Env, ["A=1"]);
  assert.equal(body.TaskTemplate.Resources?.Limits?.MemoryBytes, 256 << 20);
  assert.equal(body.UpdateConfig?.Order, "start-first");
  assert.equal(body.UpdateConfig?.Monitor, 5000 * 1e6);
  assert.deepEqual(body.EndpointSpec?.Ports, [
    { Protocol: "tcp", TargetPort: 8080, PublishedPort: 80, PublishMode: "host" },
  ]);
  assert.deepEqual(serviceBody({ name: "agent", image: "x", global: true }).Mode, { Global: {} });

  const bad: [Partial<ServiceSpec>, string][] = [
    [{ name: "a b" }, "name"],
    [{ name: "x".repeat(64) }, "name"],
    [{ image: "bad image!" }, "image"],
    [{ command: "sh -c id" as unknown as string[] }, "command"],
    [{ env: { "A=B": "1" } }, "env"],
    [{ volumes: [{ name: "/etc", target: "/x" }] }, "volumes[0].name"],
    [{ volumes: [{ name: "data", target: "relative" }] }, "volumes[0].target"],
    [{ constraints: ["node.hostname==a; rm -rf /"] }, "constraints[0]"],
    [{ ports: [{ target: 0 }] }, "ports[0].target"],
    [{ ports: [{ target: 80, protocol: "sctp" as "tcp" }] }, "ports[0].protocol"],
    [{ replicas: -1 }, "replicas"],
    [{ global: true, replicas: 2 }, "replicas"],
    [{ labels: { "bad key!": "1" } }, "labels"],
    [{ update: { order: "sideways" as "start-first" } }, "update.order"],
    [{ networks: [{ target: "net", aliases: ["a b"] }] }, "networks[0].aliases"],
  ];
  for (const [patch, field] of bad) {
    assert.throws(
      () => serviceBody({ name: "ok", image: "busybox", ...patch }),
      (e: unknown) => e instanceof DockerInputError && e.field === field,
      `expected a refusal naming ${field} for ${JSON.stringify(patch)}`,
    );
  }
});

Deno.test("serviceLogDetails() behaviour: splits the task and node off a line", () => {
  const l = serviceLogDetails({
    stream: "stdout",
    line:
      "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 GET / 200",
  });
  assert.deepEqual(l, { stream: "stdout", line: "GET / 200", taskId: "t1", nodeId: "n1" });
  assert.deepEqual(serviceLogDetails({ stream: "stderr", line: "plain" }), {
    stream: "stderr",
    line: "plain",
  });
});

Deno.test({
  name: "[docker] services: create, converge, serve, log, update, roll back and remove",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const info = await docker.info();
      assert.equal(
        info.Swarm?.LocalNodeState,
        "active",
        "the test engine must be a swarm manager (scripts/ci/start_docker.sh runs swarm init)",
      );
      const nodes = await docker.listNodes();
      assert.ok(nodes.some((n) => n.ID === info.Swarm?.NodeID && n.Status.State === "ready"));

      const name = testName(SUITE, "web");
      const published = freePort();
      const spec = httpdSpec(name, {
        ports: [{ target: 80, published, mode: "host" }],
        update: { parallelism: 1, order: "stop-first", failureAction: "rollback", monitorMs: 1000 },
      });
      const { id } = await docker.createService(spec);
      assert.match(id, /^[a-z0-9]{25}$/);
      await eventually(
        async () => (await running(docker, id)) === 1 || undefined,
        "1 task running",
      );
      const body = await eventually(async () => {
        const r = await fetch(`http://127.0.0.1:${published}/`);
        return r.ok ? await r.text() : undefined;
      }, "the host-mode published port to answer");
      assert.match(body, /^hello [0-9a-f]{12}\n$/);

      const logs = await docker.serviceLogs(id, { tail: "all" });
      // httpd -f logs nothing per request; the stream must still open and close cleanly.
      await logs.close();

      // An update replaces the task (a new version of the spec), visible through its env.
      const before = await docker.inspectService(id);
      await docker.updateService(id, before.Version.Index, { ...spec, env: { GREETING: "howdy" } });
      await eventually(async () => {
        const r = await fetch(`http://127.0.0.1:${published}/`).catch(() => undefined);
        const text = r ? await r.text() : "";
        return text.startsWith("howdy") || undefined;
      }, "the updated task to answer");
      const updated = await docker.inspectService(id);
      assert.equal(updated.PreviousSpec?.TaskTemplate.ContainerSpec.Env?.[0], "GREETING=hello");

      // A server-side rollback goes back to the previous spec.
      await docker.updateService(id, updated.Version.Index, { rollbackFrom: updated.Spec });
      await eventually(async () => {
        const s = await docker.inspectService(id);
        return s.Spec.TaskTemplate.ContainerSpec.Env?.[0] === "GREETING=hello" || undefined;
      }, "the rolled-back spec");

      // Scale to 0 and back: the task count follows the spec.
      const cur = await docker.inspectService(id);
      await docker.updateService(id, cur.Version.Index, { ...spec, replicas: 0 });
      await eventually(async () => (await running(docker, id)) === 0 || undefined, "0 running");

      const listed = await docker.listServices({ filters: testRunFilters(SUITE) });
      assert.deepEqual(listed.map((s) => s.ID), [id]);
      assert.equal(listed[0].ServiceStatus?.DesiredTasks, 0);

      await docker.removeService(id);
      await assert.rejects(() => docker.inspectService(id), { status: 404 });
    }),
});

Deno.test({
  name: "[docker] services: hostile ids never reach the engine",
  ignore,
  fn: async () => {
    const docker = createDockerClient();
    try {
      for (const bad of ["../x", "a b", "$(id)", "x".repeat(300)]) {
        await assert.rejects(() => docker.inspectService(bad), DockerInputError);
        await assert.rejects(() => docker.removeService(bad), DockerInputError);
        await assert.rejects(() => docker.inspectNode(bad), DockerInputError);
      }
      await assert.rejects(
        () => docker.swarmJoin({ remoteAddrs: ["10.0.0.1:2377"], joinToken: "nope" }),
        (e: unknown) => e instanceof DockerInputError && !e.message.includes("nope"),
      );
    } finally {
      docker.close();
    }
  },
});
