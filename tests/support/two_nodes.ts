/**
 * The apps module on a real 2-node Swarm: two engines in network namespaces on one bridge
 * (netns_engines.ts), the cluster created on the first through its agent and the second joined
 * as a worker through its agent, both nodes ready. `close()` stops the engines and the database.
 */
import { openTestDb } from "./db.ts";
import { appsHarness, OWNER } from "./apps.ts";
import { startNsEngines } from "./netns_engines.ts";
import { eventually, testLabels, testName } from "../../lib/docker/testing.ts";
import { networkNames } from "../../lib/apps/swarm_spec.ts";
import { type CountingClient, startCountingClient } from "./counting_client.ts";

export async function twoNodeApps(opts: Parameters<typeof appsHarness>[2] = {}) {
  const engines = await startNsEngines(2);
  const [manager, workerEngine] = engines.engines;
  const h = await openTestDb("sqlite");
  const close = async () => {
    await engines.stop();
    await h.close();
  };
  try {
    const env = await appsHarness(h, manager.docker, opts);
    const { cluster } = env;
    const worker = await env.addHost(`worker-${env.run}`, workerEngine.docker);
    await cluster.create(OWNER.ctx, { hostId: env.managerHost.id, advertiseAddr: manager.addr });
    await cluster.join(OWNER.ctx, worker.id, { advertiseAddr: workerEngine.addr });
    const nodeOf = async (hostId: string) => (await cluster.member(hostId))!.node_id;
    const managerNode = await nodeOf(env.managerHost.id);
    const workerNode = await nodeOf(worker.id);
    await eventually(
      async () =>
        (await cluster.nodes()).filter((n) => n.state === "ready").length === 2 || undefined,
      "both nodes to be ready",
      120_000,
    );
    return {
      env,
      manager,
      workerEngine,
      worker,
      managerNode,
      workerNode,
      close,
      /**
       * A counting client on the manager's engine asking `web.<app>` on the organization's
       * network, once it has 10 answers.
       */
      async client(suite: string, app: { id: string; name: string }): Promise<CountingClient> {
        const client = await startCountingClient(manager.docker, {
          name: testName(suite, "client"),
          network: networkNames(env.orgA, app).org,
          host: `web.${app.name}`,
          port: 80,
          labels: testLabels(suite),
        });
        await eventually(async () => (await client.counts()).ok >= 10 || undefined, "answers");
        return client;
      },
      /** Kills the worker's engine (a crashed machine) and waits until Swarm says its node is down. */
      async killWorker(): Promise<void> {
        await engines.kill(workerEngine);
        env.offline(worker.id);
        await eventually(
          async () =>
            (await cluster.nodes()).find((n) => n.node_id === workerNode)?.state === "down" ||
            undefined,
          "the worker's node to be down",
          120_000,
        );
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
