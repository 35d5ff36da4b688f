/**
 * The agent operation the apps module added, through the agent's closed list: removing an overlay
 * network is for Capstan's own networks only (name pattern and `capstan.org` label), answers
 * whether it was there, and is refused while tasks still use the network.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createControl, toWireError } from "../agent/control.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";

const SUITE = "apps-agent-ops";
const ignore = dockerTestsIgnored(SUITE);

Deno.test({
  name: "[docker] swarm.network_remove: Capstan's networks only, refused while in use, idempotent",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const control = createControl(docker);
      const hex = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
      const ours = `capstan_app_${hex}`;
      const foreign = `capstan_org_${hex}`;
      // A name outside Capstan's pattern never reaches the engine.
      const bad = await control.call("swarm.network_remove", { name: "bridge" }).catch((e) => e);
      assert.ok(bad instanceof z.ZodError);
      assert.equal(toWireError(bad).field, "name");

      await control.call("swarm.network_ensure", {
        name: ours,
        labels: { ...testLabels(SUITE), "capstan.org": "o1" },
      });
      // Same pattern, but not labelled by Capstan: refused.
      await docker.createNetwork({
        name: foreign,
        driver: "overlay",
        attachable: true,
        labels: testLabels(SUITE),
      });
      const refused = await control.call("swarm.network_remove", { name: foreign }).catch((e) => e);
      assert.equal(toWireError(refused).status, 403);
      assert.match(toWireError(refused).message, /not created by Capstan/);

      // In use by a service: the engine refuses; once the service is gone it goes.
      const svc = await docker.createService({
        name: testName(SUITE, "user"),
        image: TEST_IMAGE,
        labels: testLabels(SUITE),
        command: ["sleep", "600"],
        networks: [{ target: ours }],
        replicas: 0,
      });
      const busy = await control.call("swarm.network_remove", { name: ours }).catch((e) => e);
      assert.ok(busy instanceof Error, "refused while a service uses it");
      await docker.removeService(svc.id);
      assert.deepEqual(await control.call("swarm.network_remove", { name: ours }), {
        removed: true,
      });
      assert.deepEqual(await control.call("swarm.network_remove", { name: ours }), {
        removed: false,
      });
      await docker.removeNetwork(foreign);
    }),
});
