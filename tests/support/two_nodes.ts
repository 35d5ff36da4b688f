/**
 * The apps module on a real 2-node Swarm: two engines in network namespaces on one bridge
 * (netns_engines.ts), the cluster created on the first through its agent and the second joined
 * as a worker through its agent, both nodes ready. `close()` stops the engines and the database.
 * `twoNodeHub` is the same Swarm under a whole hub, each engine a host with a live agent session.
 */
import type { DbHandle } from "../../lib/db/mod.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import { openTestDb } from "./db.ts";
import { appsHarness, OWNER } from "./apps.ts";
import { type NsEngine, startNsEngines } from "./netns_engines.ts";
import { testApp } from "./app.ts";
import { attachEngineAgent, type TestAgent } from "./agent.ts";
import { SYSTEM_CTX } from "./services.ts";
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

/**
 * A whole hub (HTTP API, every module) over a real 2-node Swarm of netns engines, each engine
 * its own host of org "acme" with a real agent session (attachEngineAgent): so modules that look
 * agents up in the hub's registry (snapshots, volumes, containers cache, events) reach both
 * engines as they would reach remote hosts. The first engine's host creates the cluster, the
 * second joins it; both nodes ready. `call` speaks the API as a member or viewer of acme.
 */
export async function twoNodeHub(h: DbHandle, env?: Record<string, string>) {
  const engines = await startNsEngines(2);
  const agents: TestAgent[] = [];
  const close = async () => {
    for (const a of agents) await a.stop().catch(() => {});
    await engines.stop();
  };
  try {
    const [managerEngine, workerEngine] = engines.engines;
    const t = testApp(h, undefined, undefined, env);
    const s = t.services;
    const users = {
      member: await t.user("member@acme.io", { org: "acme", role: "member" }),
      viewer: await t.user("viewer@acme.io", { org: "acme", role: "viewer" }),
    };
    const org = (await s.orgs.bySlug("acme"))!;
    const socketClient = (e: NsEngine) => createDockerClient({ socketPath: e.socket });
    for (const [i, e] of [managerEngine, workerEngine].entries()) {
      const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: `node-${i + 1}` });
      agents.push(await attachEngineAgent(s, host, e.docker, socketClient(e)));
    }
    const [manager, worker] = agents.map((a) => a.host);
    await s.cluster.create(SYSTEM_CTX, { hostId: manager.id, advertiseAddr: managerEngine.addr });
    await s.cluster.join(SYSTEM_CTX, worker.id, { advertiseAddr: workerEngine.addr });
    await eventually(
      async () =>
        (await s.cluster.nodes()).filter((n) => n.state === "ready").length === 2 || undefined,
      "both nodes to be ready",
      120_000,
    );
    const nodeOf = async (hostId: string) => (await s.cluster.member(hostId))!.node_id;
    /** A JSON request as a user of acme: status and parsed body. */
    const call = async (who: keyof typeof users, method: string, path: string, json?: unknown) => {
      const res = await t.request(path, { method, cookie: users[who].cookie, json });
      const text = await res.text();
      // deno-lint-ignore no-explicit-any
      return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
    };
    return {
      t,
      org,
      call,
      /** Each node: its host, the engine, the hub's agent for it and its Swarm node id. */
      nodes: [
        { host: manager, engine: managerEngine, agent: agents[0], node: await nodeOf(manager.id) },
        { host: worker, engine: workerEngine, agent: agents[1], node: await nodeOf(worker.id) },
      ],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
