import assert from "node:assert/strict";
import type { SwarmNode, SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import { type PinInputs, resolvePins } from "./placement.ts";
import { toSwarmService } from "./swarm_spec.ts";
import { ServiceSpec } from "./spec.ts";

const node = (id: string, state = "ready", availability = "active") =>
  ({
    ID: id,
    Spec: { Availability: availability },
    Status: { State: state },
    Description: { Hostname: `host-${id}` },
  }) as unknown as SwarmNode;
const task = (service: string, nodeId: string, desired = "running") =>
  ({ ServiceID: service, NodeID: nodeId, DesiredState: desired }) as unknown as SwarmTask;

const base: PinInputs = {
  policy: "manual",
  services: ["web", "db"],
  asked: {},
  current: {},
  existing: new Map(),
  nodes: [node("a"), node("b"), node("c")],
  tasks: [],
};

Deno.test("placement: automatic pins nothing", () => {
  assert.deepEqual(resolvePins({ ...base, policy: "automatic", current: { web: "a" } }), {});
});

Deno.test("placement: a move's node first, then the current pin, kept even while down", () => {
  const nodes = [node("a", "down"), node("b"), node("c")];
  assert.deepEqual(
    resolvePins({ ...base, nodes, asked: { web: "b" }, current: { web: "a", db: "a" } }),
    { web: "b", db: "a" },
  );
});

Deno.test("placement: a pin to a node that left the cluster falls back to where tasks run", () => {
  const existing = new Map([["web", { ID: "svc-web" } as SwarmService]]);
  const tasks = [
    task("svc-web", "c"),
    task("svc-web", "b"),
    task("svc-web", "c"),
    task("svc-web", "a", "shutdown"),
  ];
  assert.equal(
    resolvePins({ ...base, services: ["web"], current: { web: "gone" }, existing, tasks }).web,
    "c",
  );
});

Deno.test("placement: a new service goes to the usable node with the fewest tasks", () => {
  const nodes = [node("a"), node("b", "down"), node("c", "ready", "drain"), node("d")];
  const tasks = [task("x", "a"), task("y", "a"), task("z", "d")];
  assert.deepEqual(resolvePins({ ...base, nodes, tasks }), { web: "d", db: "d" });
  assert.throws(() => resolvePins({ ...base, nodes: [] }), /no node/);
});

Deno.test("placement: the pin joins the user's constraints; a move may start first with host ports", () => {
  const s = ServiceSpec.parse({
    name: "web",
    image: "capstan-test/busybox:latest",
    ports: [{ target: 80, published: 8080, mode: "host" }],
    placement: { constraints: ["node.labels.disk==ssd"] },
  });
  const target = {
    org: { id: "o", slug: "o" },
    app: { id: "a", name: "a" },
    deploymentId: "d",
    networks: { org: "n1", app: "n2" },
    routingMesh: false,
  };
  const pinned = toSwarmService(s, { ...target, pin: "node-1" });
  assert.deepEqual(pinned.constraints, ["node.labels.disk==ssd", "node.id==node-1"]);
  assert.equal(pinned.update?.order, "stop-first");
  assert.equal(
    toSwarmService(s, { ...target, pin: "node-2", moving: true }).update?.order,
    "start-first",
  );
  assert.deepEqual(toSwarmService(s, target).constraints, ["node.labels.disk==ssd"]);
});
