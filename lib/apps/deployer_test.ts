import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { silentLogger } from "../log.ts";
import { systemClock } from "../util/clock.ts";
import { serviceBody, type ServiceSpec as DockerServiceSpec } from "../docker/services.ts";
import type { SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import { createAppStore } from "./store.ts";
import { AppSpec } from "./spec.ts";
import {
  createDeployer,
  sameTemplate,
  schedulingProblem,
  taskPorts,
  taskProblem,
} from "./deployer.ts";
import type { SwarmGateway } from "./gateway.ts";
import { LABELS } from "./swarm_spec.ts";

Deno.test("sameTemplate() behaviour: compares by content, ignoring key order and Runtime", () => {
  const a = { ContainerSpec: { Image: "x", Env: ["A=1"] }, ForceUpdate: 0, Runtime: "container" };
  const b = { ForceUpdate: 0, ContainerSpec: { Env: ["A=1"], Image: "x" } };
  assert.equal(sameTemplate(b, a), true);
  assert.equal(sameTemplate(b, { ...a, ContainerSpec: { Image: "x", Env: ["A=2"] } }), false);
});

Deno.test("sameTemplate() behaviour: a task kept through a placement-only change counts where its node fits", () => {
  const task = { ContainerSpec: { Image: "x" } };
  const pinned = (id: string) => ({ ...task, Placement: { Constraints: [`node.id==${id}`] } });
  assert.equal(sameTemplate(task, pinned("n1"), "n1"), true, "pinned where it runs");
  assert.equal(sameTemplate(task, pinned("n2"), "n1"), false, "a move waits for the new task");
  assert.equal(sameTemplate(pinned("n1"), { ...task, Placement: {} }, "n1"), true, "unpinned");
  assert.equal(
    sameTemplate(task, { ContainerSpec: { Image: "y" }, Placement: {} }, "n1"),
    false,
    "other changes still count",
  );
});

Deno.test("taskProblem() and schedulingProblem() behaviour: failures in words", () => {
  const t = {
    Status: { State: "failed", Err: "task: non-zero exit (3)", ContainerStatus: { ExitCode: 3 } },
  } as SwarmTask;
  assert.equal(taskProblem(t), "task: non-zero exit (3)");
  const oom = { Status: { State: "failed", Err: "OOM", ContainerStatus: { ExitCode: 137 } } };
  assert.equal(taskProblem(oom as SwarmTask), "OOM (exit code 137)");
  assert.match(
    schedulingProblem("no suitable node (insufficient resources on 2 nodes)") ?? "",
    /^no node has the CPU or memory this service reserves/,
  );
  assert.match(
    schedulingProblem("no suitable node (scheduling constraints not satisfied on 1 node)") ?? "",
    /placement constraints/,
  );
  assert.equal(schedulingProblem("starting"), undefined);
});

/**
 * A Swarm whose one service is updated and then goes through `steps` (one per poll of its tasks):
 * what the deployer sees right after its update call.
 */
function updatingSwarm(steps: ((template: unknown) => SwarmTask[])[]) {
  let spec: DockerServiceSpec | undefined;
  let polls = 0;
  const oldTemplate = { ContainerSpec: { Image: "sha256:old" } };
  const service = (): SwarmService =>
    ({
      ID: "s".repeat(25),
      Spec: {
        ...(spec ? serviceBody(spec) : { TaskTemplate: oldTemplate }),
        Labels: { [LABELS.service]: "web" },
        Mode: { Replicated: { Replicas: 2 } },
      },
      // Swarm has not begun rolling: the update status is the last one's.
      UpdateStatus: { State: "completed", StartedAt: "2020-01-01T00:00:00Z" },
    }) as unknown as SwarmService;
  const gw = {
    image: () => Promise.resolve({ id: "sha256:" + "1".repeat(64), repo_digests: [] }),
    ensureNetwork: () => Promise.resolve({ id: "n", created: false }),
    services: () => Promise.resolve([service()]),
    inspect: () => Promise.resolve(service()),
    update: (_id: string, s: DockerServiceSpec) => {
      spec = s;
      return Promise.resolve();
    },
    tasks: () => {
      const step = steps[Math.min(polls++, steps.length - 1)];
      return Promise.resolve(step(service().Spec.TaskTemplate));
    },
    nodes: () => Promise.resolve([]),
    logs: () => ({ cancel() {}, async *[Symbol.asyncIterator]() {} }),
  } as unknown as SwarmGateway;
  return { gw, oldTemplate, polls: () => polls };
}

const task = (id: string, template: unknown, desired: string, state: string) =>
  ({
    ID: id,
    Spec: template,
    DesiredState: desired,
    Status: { State: state },
    UpdatedAt: new Date().toISOString(),
  }) as unknown as SwarmTask;

dbTest(
  "deployer: an update is converged only when every task runs the new template and the old ones stopped",
  async (h) => {
    const store = createAppStore(h.db, systemClock);
    const orgId = await insertOrg(h.db, "acme");
    const spec = AppSpec.parse({ services: [{ name: "web", image: "shop:2", replicas: 2 }] });
    const app = await store.create(orgId, { name: "shop", spec }, null);
    const d = await store.startDeployment(app, {
      spec,
      trigger: { kind: "deploy", actor_type: "system", actor_id: null },
    });
    const swarm = updatingSwarm([
      // Right after the update: the old version's tasks, all running.
      () => [
        task("o1", swarm.oldTemplate, "running", "running"),
        task("o2", swarm.oldTemplate, "running", "running"),
      ],
      // Rolled: new tasks run, the old ones are told to stop but are still alive.
      (t) => [
        task("n1", t, "running", "running"),
        task("n2", t, "running", "running"),
        task("o1", swarm.oldTemplate, "shutdown", "running"),
        task("o2", swarm.oldTemplate, "shutdown", "shutdown"),
      ],
      (t) => [
        task("n1", t, "running", "running"),
        task("n2", t, "running", "running"),
        task("o1", swarm.oldTemplate, "shutdown", "shutdown"),
        task("o2", swarm.oldTemplate, "shutdown", "shutdown"),
      ],
    ]);
    const deployer = createDeployer({
      store,
      clock: systemClock,
      log: silentLogger,
      cluster: () =>
        Promise.resolve({
          gw: swarm.gw,
          info: { routingMesh: false, encryptedNetworks: false },
        }),
      orgSlug: () => Promise.resolve("acme"),
      progress: () => {},
      pollMs: 1,
    });
    assert.equal(await deployer.run(app, d), "running");
    assert.equal(swarm.polls(), 3, "done only at the third look");
    assert.equal((await store.deployment(app, "1")).status, "running");
  },
);

Deno.test("taskPorts() keeps one binding per container port: the IPv4 one the engine lists first", () => {
  const task = {
    Status: {
      PortStatus: {
        Ports: [
          { Protocol: "tcp", TargetPort: 80, PublishedPort: 32920, PublishMode: "host" },
          { Protocol: "tcp", TargetPort: 80, PublishedPort: 32919, PublishMode: "host" },
          { Protocol: "udp", TargetPort: 53, PublishedPort: 32921, PublishMode: "host" },
        ],
      },
    },
  } as unknown as Parameters<typeof taskPorts>[0];
  assert.deepEqual(taskPorts(task), [
    { target: 80, published: 32920, protocol: "tcp" },
    { target: 53, published: 32921, protocol: "udp" },
  ]);
});
