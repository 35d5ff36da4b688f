import assert from "node:assert/strict";
import { z } from "zod";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import { createControl, toWireError } from "./control.ts";

const SUITE = "agent-swarm";
const ignore = dockerTestsIgnored(SUITE);

Deno.test({
  name:
    "[docker] swarm operations: state, a service created, listed, logged, rolled back and removed through the closed list",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const control = createControl(docker);
      const state = await control.call("swarm.state", {}) as { state: string; manager: boolean };
      assert.equal(state.state, "active");
      assert.equal(state.manager, true);

      const tokens = await control.call("swarm.join_tokens", {}) as Record<string, string>;
      assert.match(tokens.worker, /^SWMTKN-1-/);
      assert.match(tokens.manager_addr, /:2377$/);

      // A bad spec is refused by the agent with the field named, before the engine sees it.
      const bad = await control.call("service.create", {
        spec: { name: "x", image: TEST_IMAGE, ports: [{ target: 0 }] },
      }).catch((e) => e);
      assert.ok(bad instanceof z.ZodError);
      assert.equal(toWireError(bad).field, "spec.ports.0.target");

      const name = testName(SUITE, "logs");
      const spec = {
        name,
        image: TEST_IMAGE,
        labels: testLabels(SUITE),
        command: ["sh", "-c"],
        args: ["echo started-$GREETING; exec sleep 600"],
        env: { GREETING: "one" },
        stopGracePeriodMs: 500,
      };
      const { id } = await control.call("service.create", { spec }) as { id: string };
      const lines: { line: string; taskId?: string }[] = [];
      await eventually(async () => {
        lines.length = 0;
        const ac = new AbortController();
        await control.stream("service.logs", { id, follow: false, tail: 100 }, (batch) => {
          lines.push(...batch as typeof lines);
        }, ac.signal);
        return lines.some((l) => l.line.includes("started-one")) || undefined;
      }, "the service's first log line");
      assert.match(lines[0].taskId ?? "", /^[a-z0-9]{25}$/);

      await control.call("service.update", { id, spec: { ...spec, env: { GREETING: "two" } } });
      await control.call("service.rollback", { id });
      await eventually(async () => {
        const s = await control.call("service.inspect", { id }) as {
          Spec: { TaskTemplate: { ContainerSpec: { Env: string[] } } };
        };
        return s.Spec.TaskTemplate.ContainerSpec.Env[0] === "GREETING=one" || undefined;
      }, "the rolled-back spec");

      const listed = await control.call("services.list", {
        label: [`capstan.test.suite=${SUITE}`],
      }) as { ID: string }[];
      assert.ok(listed.some((s) => s.ID === id));
      const tasks = await control.call("tasks.list", { filters: { service: [id] } }) as unknown[];
      assert.ok(tasks.length >= 1);

      const image = await control.call("image.inspect", { ref: TEST_IMAGE }) as { id: string };
      assert.match(image.id, /^sha256:[0-9a-f]{64}$/);

      await control.call("service.remove", { id });
      const gone = await control.call("service.inspect", { id }).catch((e) => toWireError(e));
      assert.equal((gone as { status: number }).status, 404);
    }),
});

Deno.test({
  name: "[docker] swarm operations: hostile parameters never reach the engine",
  ignore,
  fn: async () => {
    const docker = createDockerClient();
    try {
      const control = createControl(docker);
      for (
        const [op, params] of [
          ["swarm.init", { advertise_addr: "127.0.0.1; rm -rf /" }],
          ["swarm.join", { remote_addrs: ["x y"], token: "SWMTKN-1-a-b" }],
          ["node.update", { id: "../../x", availability: "drain" }],
          ["service.remove", { id: "$(id)" }],
          ["tasks.list", { filters: { label: ["a\nb"] } }],
          ["image.inspect", { ref: "a b" }],
        ] as const
      ) {
        const err = await control.call(op, params).catch((e) => e);
        assert.equal(toWireError(err).status, 400, `${op} must be refused`);
      }
    } finally {
      docker.close();
    }
  },
});
