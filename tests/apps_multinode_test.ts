/**
 * Apps on a real 2-node Swarm: two Docker Engines in network namespaces on one bridge
 * (tests/support/netns_engines.ts), the cluster created on one through its agent and the other
 * joined as a worker through its agent. An app with 2 web replicas runs one on each node; the
 * cluster's safe drain empties a node while a client keeps asking (the failures are counted:
 * none); then the worker's engine is killed, Swarm starts its tasks on the remaining node, and
 * the reconciler records each move on the app's timeline.
 */
import assert from "node:assert/strict";
import { dbService, OWNER, webService } from "./support/apps.ts";
import { twoNodeApps } from "./support/two_nodes.ts";
import type { CountingClient } from "./support/counting_client.ts";
import { dockerTestsIgnored, eventually } from "../lib/docker/testing.ts";
import { loopbackAlertsEnv, startReceiver } from "./support/receivers.ts";

const SUITE = "apps-multinode";
const HOOK_SECRET = "webhook-signing-secret-multinode";
const ignore = dockerTestsIgnored(SUITE) || Deno.uid() !== 0;

Deno.test({
  name:
    "[docker] apps on 2 nodes: replicas spread, a safe drain without a failed request, a killed worker's tasks rescheduled and recorded",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const two = await twoNodeApps({ drainTimeoutMs: 180_000, env: loopbackAlertsEnv() });
    const { env, managerNode, workerNode } = two;
    let client: CountingClient | undefined;
    const figures: string[] = [];
    // The organization's webhook channel: a node failure must reach it once.
    const rx = startReceiver({ secret: HOOK_SECRET });
    try {
      const { apps, cluster, orgA, store } = env;
      await env.services.alerts.channels.create(OWNER.ctx, orgA.id, {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: HOOK_SECRET },
      });

      const name = `shop-${env.run}`;
      const t0 = performance.now();
      const { app } = await apps.create(OWNER, orgA.id, {
        name,
        spec: { services: [webService("hello"), dbService()] },
      });
      const d1 = await env.deployed(orgA.id, app.id, 1);
      assert.equal(d1.status, "running", d1.reason ?? "");
      figures.push(`deploy ready ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      /** The nodes of the service's running tasks, sorted. */
      const placement = async (service: string) => {
        const s = (await apps.status(await store.get(orgA.id, app.id))).services
          .find((x) => x.name === service)!;
        return s.tasks.filter((t) => t.desired === "running" && t.state === "running")
          .map((t) => t.node_id).sort();
      };
      assert.deepEqual(await placement("web"), [managerNode, workerNode].sort(), "spread");

      // A client on the manager's engine asks through the org network (across nodes for one).
      client = await two.client(SUITE, { id: app.id, name });

      // Safe drain of the manager's node: replacements run on the worker before anything stops.
      const before = await client.counts();
      const tDrain = performance.now();
      const drained = await cluster.setAvailability(OWNER.ctx, env.managerHost.id, "drain");
      figures.push(`drain ${((performance.now() - tDrain) / 1000).toFixed(1)} s`);
      assert.ok((drained.moved ?? 0) >= 1, "the drain moved the manager's tasks");
      await eventually(async () => {
        const p = await placement("web");
        return p.length === 2 && p.every((n) => n === workerNode) || undefined;
      }, "web's 2 replicas to run on the worker");
      const node = (await cluster.nodes()).find((n) => n.node_id === managerNode)!;
      assert.equal(node.availability, "drain");
      const afterDrain = await client.counts();
      figures.push(
        `requests during the drain: ${afterDrain.ok - before.ok} ok / ${
          afterDrain.bad - before.bad
        } failed`,
      );
      assert.equal(afterDrain.bad, 0, `failed requests during the drain at ${afterDrain.failedAt}`);
      await cluster.setAvailability(OWNER.ctx, env.managerHost.id, "active");

      // The worker's engine dies: its node goes down and Swarm starts its tasks on the manager.
      const tKill = performance.now();
      await two.killWorker();
      figures.push(`node down after ${((performance.now() - tKill) / 1000).toFixed(1)} s`);
      await eventually(
        async () => {
          const [web, db] = [await placement("web"), await placement("db")];
          return web.length === 2 && db.length === 1 &&
              [...web, ...db].every((n) => n === managerNode) || undefined;
        },
        "the worker's tasks to run on the manager",
        120_000,
      );
      figures.push(`rescheduled after ${((performance.now() - tKill) / 1000).toFixed(1)} s`);
      const afterKill = await client.stop();
      client = undefined;
      figures.push(
        `requests around the kill: ${afterKill.ok - afterDrain.ok} ok / ${
          afterKill.bad - afterDrain.bad
        } failed`,
      );

      const r = await env.reconciler.pass();
      assert.deepEqual(r.errors, []);
      // Slots are Swarm's (a drain's scale-up and back may leave web in slots 2 and 3).
      assert.deepEqual(r.moves.map((x) => x.service).sort(), ["db", "web", "web"]);
      assert.ok(r.moves.every((x) => x.from_node !== x.to_node));
      const timeline = await store.events(await store.get(orgA.id, app.id));
      const lines = timeline.filter((e) => e.kind === "node").map((e) => e.message).sort();
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^Task db\.\d+ moved from \S+ \(down\) to \S+$/);
      assert.deepEqual((await env.reconciler.pass()).moves, [], "each move once");
      await apps.idle();

      // One notification for the failure, naming the app, its services and where they went.
      await env.services.alerts.idle();
      const managerName = r.moves[0].to_node;
      const workerName = r.moves[0].from_node;
      assert.equal(rx.got.length, 1, JSON.stringify(rx.got.map((g) => g.json)));
      const note = rx.got[0].json;
      assert.ok(rx.got[0].verified);
      assert.equal(note.event, "firing");
      assert.equal(note.title, `App ${name}: db, web moved off ${workerName} (down)`);
      assert.equal(note.host, workerName);
      const detail = String(note.detail);
      assert.match(detail, new RegExp(`^Swarm started 3 tasks of ${name} on other nodes`));
      for (const mv of r.moves) {
        assert.ok(detail.includes(`${mv.service}.${mv.slot} → ${managerName}`), detail);
      }
      console.log(`apps-multinode figures: ${figures.join(", ")}`);
    } finally {
      await rx.close();
      await client?.stop().catch(() => {});
      await two.close();
    }
  },
});
