/**
 * Apps on a real single-node Swarm (the CI engine is a swarm manager), driven through the agent's
 * closed list of operations: an app of two services (web depends on db) created and deployed, a
 * zero-downtime update counted by a client on the organization's network, a broken version (its
 * command exits) rolled back by Swarm with the reason and the task's last log lines while the
 * previous version keeps answering, a rollback by hand to deployment #1, stop, start, scale, 507
 * for an impossible reservation, and delete (services and networks gone).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { appsHarness, cleanupApps, dbService, OWNER, webService } from "./support/apps.ts";
import { type CountingClient, startCountingClient } from "./support/counting_client.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually, testLabels, testName } from "../lib/docker/testing.ts";
import { LABELS, networkNames } from "../lib/apps/swarm_spec.ts";
import { InsufficientCapacity } from "../lib/errors.ts";

const SUITE = "apps-swarm";
const ignore = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] apps: deploy with a dependency, zero-downtime update, a broken version rolled back by Swarm, rollback by hand, stop, start, scale, delete",
  async (h) => {
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const orgIds: string[] = [];
    let client: CountingClient | undefined;
    try {
      const env = await appsHarness(h, docker);
      const { orgA, apps, store, cluster, progress } = env;
      orgIds.push(orgA.id, env.orgB.id);
      // The CI engine already is a manager: the cluster adopts it.
      await cluster.create(OWNER.ctx, {
        hostId: env.managerHost.id,
        advertiseAddr: "127.0.0.1",
        adopt: true,
      });
      const name = `shop-${env.run}`;
      // How long each step took, for the figures line at the end.
      const steps: string[] = [];
      let tStep = performance.now();
      const mark = (what: string) => {
        steps.push(`${what} ${((performance.now() - tStep) / 1000).toFixed(1)} s`);
        tStep = performance.now();
      };
      const reload = () => store.get(orgA.id, app.id);

      // Create: answered at once; the deployment goes on in the background.
      const t0 = performance.now();
      const { app, deployment } = await apps.create(OWNER, orgA.id, {
        name,
        spec: { services: [webService("hello"), dbService()] },
      });
      const answeredMs = performance.now() - t0;
      assert.ok(answeredMs < 5000, `the create answers at once (${answeredMs} ms)`);
      assert.equal(deployment?.number, 1);
      const d1 = await env.deployed(orgA.id, app.id, 1);
      const readyS = (performance.now() - t0) / 1000;
      assert.equal(d1.status, "running", d1.reason ?? "");
      assert.match(d1.images.web, /^sha256:[0-9a-f]{64}$/, "the image is pinned by id");
      assert.equal((await reload()).current_deployment_id, d1.id);
      // db converged before web was created: the first report naming web comes after db ran.
      const first = progress.findIndex((p) => p.services?.some((s) => s.name === "web"));
      assert.ok(
        progress.slice(0, first).some((p) =>
          p.services?.some((s) => s.name === "db" && s.running === 1)
        ),
        "db ran before web started",
      );

      mark("create");
      // A client on the organization's network asks web.<app> without pause.
      const nets = networkNames(orgA, app);
      client = await startCountingClient(docker, {
        name: testName(SUITE, "client"),
        network: nets.org,
        host: `web.${name}`,
        port: 80,
        labels: testLabels(SUITE),
      });
      await eventually(async () => (await client!.counts()).ok >= 5 || undefined, "first answers");
      assert.match(await client.ask(), /^hello from \S+ \(db: ready\)$/);

      mark("client");
      // An update to a changed version rolls through without a failed request.
      await apps.update(OWNER, await reload(), {
        spec: { services: [webService("howdy"), dbService()] },
      });
      const t2 = performance.now();
      await apps.deploy(OWNER, await reload());
      const d2 = await env.deployed(orgA.id, app.id, 2);
      const updateS = (performance.now() - t2) / 1000;
      assert.equal(d2.status, "running", d2.reason ?? "");
      const afterUpdate = await client.counts();
      assert.equal(
        afterUpdate.bad,
        0,
        `failed requests during the update: ${afterUpdate.failedAt}`,
      );
      assert.match(await client.ask(), /^howdy from /);

      mark("update");
      // A broken version (its command exits) is rolled back by Swarm; the last one keeps serving.
      await apps.update(OWNER, await reload(), {
        spec: {
          services: [
            webService("broken", {
              args: [
                "echo 'shop 2.0 starting'; echo 'fatal: /etc/shop.conf is missing' >&2; exit 3",
              ],
            }),
            dbService(),
          ],
        },
      });
      await apps.deploy(OWNER, await reload());
      const d3 = await env.deployed(orgA.id, app.id, 3);
      assert.equal(d3.status, "rolled_back", `deployment 3 ended ${d3.status}: ${d3.reason}`);
      assert.match(d3.reason ?? "", /^service web: .*exit.*3/, d3.reason ?? "");
      assert.match(d3.reason ?? "", /last log lines: .*fatal: \/etc\/shop\.conf is missing/);
      assert.equal(
        (await reload()).current_deployment_id,
        d2.id,
        "a rolled-back one is never current",
      );
      const events = await store.events(await reload());
      assert.ok(events.some((e) => /#3 failed and was rolled back: service web/.test(e.message)));
      assert.match(await client.ask(), /^howdy from /);
      const afterBroken = await client.counts();
      assert.equal(
        afterBroken.bad,
        0,
        `failed requests during the broken update: ${afterBroken.failedAt}`,
      );

      mark("broken");
      // By hand back to #1: its snapshot with its pinned images; the diff of #2 names the change.
      await apps.rollback(OWNER, await reload(), "1");
      const d4 = await env.deployed(orgA.id, app.id, 4);
      assert.equal(d4.status, "running", d4.reason ?? "");
      assert.deepEqual(d4.trigger.kind, "rollback");
      assert.equal(d4.trigger.from, d1.id);
      assert.deepEqual(d4.images, d1.images);
      assert.match(await client.ask(), /^hello from /);
      const diff = await apps.deploymentWithDiff(await reload(), "2");
      assert.deepEqual(diff.diff.changed.map((c) => [c.service, c.changes.map((x) => x.field)]), [
        ["web", ["env"]],
      ]);
      const final = await client.stop();
      client = undefined;
      assert.equal(final.bad, 0, `failed requests overall: ${final.failedAt}`);
      assert.ok(final.ok > 20, `answered requests: ${final.ok}`);

      mark("rollback");
      // Stop scales to 0 and keeps the app; start brings the replicas back; scale changes them.
      const counts = async () =>
        Object.fromEntries(
          (await apps.status(await reload())).services.map((s) => [s.name, [s.running, s.desired]]),
        );
      await apps.stop(OWNER, await reload());
      assert.equal((await env.deployed(orgA.id, app.id, 5)).status, "running");
      assert.deepEqual(await counts(), { web: [0, 0], db: [0, 0] });
      assert.equal((await reload()).desired_state, "stopped");
      await apps.start(OWNER, await reload());
      assert.equal((await env.deployed(orgA.id, app.id, 6)).status, "running");
      assert.deepEqual(await counts(), { web: [2, 2], db: [1, 1] });
      await apps.scale(OWNER, await reload(), "web", 3);
      assert.equal((await env.deployed(orgA.id, app.id, 7)).status, "running");
      assert.deepEqual(await counts(), { web: [3, 3], db: [1, 1] });

      // Restart: every task replaced (new containers), nothing else changed.
      const running = async () =>
        (await apps.status(await reload())).services.flatMap((s) =>
          s.tasks.filter((t) => t.state === "running" && t.desired === "running")
            .map((t) => t.container_id)
        ).sort();
      const beforeRestart = await running();
      await apps.restart(OWNER, await reload());
      assert.equal((await env.deployed(orgA.id, app.id, 8)).status, "running");
      const afterRestart = await running();
      assert.equal(afterRestart.length, 4);
      assert.ok(
        afterRestart.every((id) => !beforeRestart.includes(id)),
        `every container replaced: ${beforeRestart} → ${afterRestart}`,
      );

      mark("stop/start/scale/restart");
      // 507: no node has what a service reserves, answered before anything starts.
      await assert.rejects(
        () =>
          apps.create(OWNER, orgA.id, {
            name: `huge-${env.run}`,
            spec: {
              services: [{ ...dbService(), resources: { reservations: { cpus: 1000 } } }],
            },
          }),
        (e: unknown) =>
          e instanceof InsufficientCapacity && /no node has 1000 CPUs free/.test(e.message),
      );

      mark("507");
      // Delete: services and both networks go (the organization has no other app).
      await apps.remove(OWNER, await reload());
      await apps.idle();
      assert.deepEqual(
        await docker.listServices({ filters: { label: [`${LABELS.app}=${app.id}`] } }),
        [],
      );
      // The manager forgets them at once; the engine lists them until its task containers left.
      await eventually(
        async () =>
          !(await docker.listNetworks()).some((n) => n.Name === nets.app || n.Name === nets.org) ||
          undefined,
        "the app's and the organization's networks to be gone",
      );
      mark("delete");
      console.log(
        `apps-swarm figures (${h.dialect}): create answered in ${answeredMs.toFixed(0)} ms, ` +
          `deploy ready in ${readyS.toFixed(1)} s, update in ${updateS.toFixed(1)} s, ` +
          `requests ${final.ok} ok / ${final.bad} failed across update, broken update and rollback; steps: ${
            steps.join(", ")
          }`,
      );
    } finally {
      await client?.stop().catch(() => {});
      await cleanupApps(docker, orgIds, SUITE);
      docker.close();
    }
  },
  { ignore },
);
