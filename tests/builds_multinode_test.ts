/**
 * A built image reaches the other nodes without a registry: on a real 2-node Swarm (two engines
 * in network namespaces), an image built on the manager's engine is copied by the builds
 * module's distributor to the worker's engine through the two agents (save → load in pieces the
 * slower side paces), with the same image id, and an app pinned to the worker runs it.
 */
import assert from "node:assert/strict";
import { OWNER } from "./support/apps.ts";
import { twoNodeApps } from "./support/two_nodes.ts";
import { controlAgent } from "./support/control_agent.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { createDistributor } from "../lib/builds/image_delivery.ts";
import { contextTar } from "../agent/build/context.ts";
import { silentLogger } from "../lib/log.ts";

const SUITE = "builds-multinode";
const ignore = dockerTestsIgnored(SUITE) || Deno.uid() !== 0;

Deno.test({
  name:
    "[docker] builds on 2 nodes: a built image is copied to the other node through the agents and runs there",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const two = await twoNodeApps();
    const { env, workerNode } = two;
    const dir = await Deno.makeTempDir({ prefix: "capstan-build-ctx-" });
    try {
      const { apps, orgA, cluster } = env;
      const tag = `capstan-builds/${env.run}/web:b1`;
      await Deno.writeTextFile(
        `${dir}/Dockerfile`,
        `FROM ${TEST_IMAGE}\nRUN mkdir -p /www && echo built-on-manager > /www/index.html\n` +
          `CMD ["sh", "-c", "exec httpd -f -p 80 -h /www"]\n`,
      );
      const lines: string[] = [];
      const { imageId } = await two.manager.docker.buildImage(
        contextTar(dir, { maxBytes: 1024 * 1024 }),
        { tag, labels: { "capstan.test": "1" }, onLog: (l) => lines.push(l) },
      );
      const agents = new Map([
        [env.managerHost.id, controlAgent(two.manager.docker)],
        [two.worker.id, controlAgent(two.workerEngine.docker)],
      ]);
      const distributor = createDistributor({
        agent: (id) => agents.get(id),
        nodes: () => cluster.nodes(),
        log: silentLogger,
      });
      assert.equal(distributor.viaRegistry, false);
      const said: string[] = [];
      const ref = await distributor.distribute(
        { app_id: env.run, service: "web", number: 1 },
        env.managerHost.id,
        tag,
        (l) => said.push(l),
      );
      assert.equal(ref, tag, "without a registry the deployment names the local tag");
      assert.ok(said.some((l) => l.startsWith("Copied")), said.join("\n"));
      const copied = await two.workerEngine.docker.inspectImage(tag);
      assert.equal(copied.Id, imageId, "the same image on the worker");

      const name = `built-${env.run}`;
      const { app } = await apps.create(OWNER, orgA.id, {
        name,
        spec: {
          services: [{
            name: "web",
            image: tag,
            replicas: 1,
            placement: { constraints: [`node.id==${workerNode}`] },
            health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 2 },
            stop_grace_s: 1,
          }],
        },
      });
      const d = await env.deployed(orgA.id, app.id, 1);
      assert.equal(d.status, "running", d.reason ?? "");
      const status = await apps.status(await env.store.get(orgA.id, app.id));
      const running = status.services[0].tasks.filter((t) => t.state === "running");
      assert.deepEqual(running.map((t) => t.node_id), [workerNode]);
      await apps.remove(OWNER, await env.store.get(orgA.id, app.id));
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await two.close();
    }
  },
});
