/**
 * Migration policies on a real 2-node Swarm (two engines in network namespaces,
 * tests/support/netns_engines.ts): an app with the manual policy is pinned to one node; "Move to"
 * the other node is a deployment after which its task runs there and the Swarm service carries
 * the new `node.id` constraint, while a client on the organization's network keeps asking (the
 * failures are counted); then, with the policy none, the node is killed: Swarm makes a
 * replacement task that no other node may take (pending, the constraint unmet) instead of moving
 * it, and a move to the down node is refused with 409 naming `node`.
 */
import assert from "node:assert/strict";
import { dbService, OWNER } from "./support/apps.ts";
import { twoNodeApps } from "./support/two_nodes.ts";
import type { CountingClient } from "./support/counting_client.ts";
import { dockerTestsIgnored, eventually } from "../lib/docker/testing.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";
import { Conflict } from "../lib/errors.ts";

const SUITE = "apps-move";
const ignore = dockerTestsIgnored(SUITE) || Deno.uid() !== 0;

Deno.test({
  name:
    "[docker] apps on 2 nodes: Move to re-pins a manual app's service to the other node; with none a dead node's task is not rescheduled",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const two = await twoNodeApps();
    const { env, managerNode, workerNode } = two;
    let client: CountingClient | undefined;
    const figures: string[] = [];
    try {
      const { apps, cluster, orgA, store } = env;

      const name = `move-${env.run}`;
      const { app } = await apps.create(OWNER, orgA.id, {
        name,
        spec: { services: [dbService({ name: "web", update: { order: "start-first" } })] },
        migration_policy: "manual",
      });
      const d1 = await env.deployed(orgA.id, app.id, 1);
      assert.equal(d1.status, "running", d1.reason ?? "");
      const first = d1.pins.web;
      assert.ok([managerNode, workerNode].includes(first), JSON.stringify(d1.pins));
      /** The nodes web's running tasks run on. */
      const placement = async () => {
        const s = (await apps.status(await store.get(orgA.id, app.id))).services[0];
        return s.tasks.filter((t) => t.desired === "running" && t.state === "running")
          .map((t) => t.node_id);
      };
      const constraints = async () => {
        const [s] = await two.manager.docker.listServices({
          filters: { label: [`${LABELS.app}=${app.id}`] },
        });
        return s.Spec.TaskTemplate.Placement?.Constraints ?? [];
      };
      assert.deepEqual(await placement(), [first]);

      client = await two.client(SUITE, { id: app.id, name });

      // Move to the other node (and back to the worker, so the worker's death hits web).
      const targets = first === workerNode ? [managerNode, workerNode] : [workerNode];
      let n = 1;
      for (const target of targets) {
        const before = await client.counts();
        const t0 = performance.now();
        const d = await apps.move(OWNER, await store.get(orgA.id, app.id), "web", target);
        assert.equal(d.trigger.kind, "move");
        const done = await env.deployed(orgA.id, app.id, ++n);
        assert.equal(done.status, "running", done.reason ?? "");
        assert.deepEqual(done.pins, { web: target });
        assert.deepEqual(await placement(), [target]);
        assert.deepEqual(await constraints(), [`node.id==${target}`]);
        const after = await client.counts();
        figures.push(
          `move ${((performance.now() - t0) / 1000).toFixed(1)} s, ${after.ok - before.ok} ok / ${
            after.bad - before.bad
          } failed`,
        );
      }
      const counts = await client.stop();
      client = undefined;
      const timeline = await store.events(await store.get(orgA.id, app.id));
      assert.ok(timeline.some((e) => e.kind === "move" && /^web is moving to /.test(e.message)));

      // None: the worker dies; Swarm replaces the task but no other node may run it.
      await apps.update(OWNER, await store.get(orgA.id, app.id), { migration_policy: "none" });
      await two.killWorker();
      const stuck = await eventually(
        async () => {
          const { gw } = await cluster.manager();
          const [svc] = await gw.services(`${LABELS.app}=${app.id}`);
          const tasks = await gw.tasks({ service: [svc.ID] });
          return tasks.find((t) =>
            t.DesiredState === "running" && t.Status.State === "pending" &&
            /constraint|no suitable node/.test(t.Status.Err ?? "")
          );
        },
        "a replacement task Swarm cannot place",
        120_000,
      );
      assert.ok(!stuck.NodeID, "the replacement is on no node");
      assert.deepEqual(await placement(), [], "nothing runs on the manager instead");

      // Manual again: a move to the down node is refused, naming it.
      await apps.update(OWNER, await store.get(orgA.id, app.id), { migration_policy: "manual" });
      const refused = await apps.move(OWNER, await store.get(orgA.id, app.id), "web", workerNode)
        .then(() => undefined, (e) => e);
      assert.ok(refused instanceof Conflict, String(refused));
      assert.match(refused.fields?.node ?? "", /is not ready and active/);
      console.log(
        `apps-move figures: ${figures.join("; ")}; in all ${counts.ok} ok / ${counts.bad} failed`,
      );
      assert.equal(counts.bad, 0, `failed requests at ${counts.failedAt}`);
      await apps.idle();
    } finally {
      await client?.stop().catch(() => {});
      await two.close();
    }
  },
});
