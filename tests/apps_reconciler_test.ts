/**
 * The apps reconciler: against a scripted Swarm on both dialects (stuck deployments failed with a
 * reason, missing services created again from the current deployment, orphans reported and
 * removed only when asked, task moves off a down node recorded once, the per-pass bound, no
 * cluster), and against the real single-node Swarm (a service removed behind Capstan's back comes
 * back and serves; a stray Capstan-labelled service is reported, then removed on request).
 */
import type { Orphan } from "../lib/apps/reconciler.ts";
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { insertOrg } from "./support/org_row.ts";
import { manualClock } from "./support/clock.ts";
import { execOutput } from "./support/counting_client.ts";
import { dbService, OWNER, webService, withSingleNodeApps } from "./support/apps.ts";
import { silentLogger } from "../lib/log.ts";
import { systemClock } from "../lib/util/clock.ts";
import { announceMoves } from "../lib/apps/events.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { loopbackAlertsEnv, startReceiver } from "./support/receivers.ts";
import { createAppStore } from "../lib/apps/store.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { createReconciler } from "../lib/apps/reconciler.ts";
import type { SwarmGateway } from "../lib/apps/gateway.ts";
import type { ServiceSpec as DockerServiceSpec } from "../lib/docker/services.ts";
import type { SwarmNode, SwarmService, SwarmTask } from "../lib/docker/swarm_types.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";
import { Conflict, Unavailable } from "../lib/errors.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";

const SUITE = "apps-reconciler";
const HOOK_SECRET = "webhook-signing-secret-moves";
const ignore = dockerTestsIgnored(SUITE);

/** A Swarm in memory: services, nodes and tasks a test sets, and the calls made to it. */
function scriptedSwarm() {
  const services: SwarmService[] = [];
  const nodes: SwarmNode[] = [];
  const tasks: SwarmTask[] = [];
  const created: DockerServiceSpec[] = [];
  const removed: string[] = [];
  let n = 0;
  const id = () => `svc${String(++n).padStart(22, "0")}`;
  const service = (labels: Record<string, string>, name = `s${n}`): SwarmService => {
    const s = {
      ID: id(),
      Spec: { Name: name, Labels: labels },
    } as unknown as SwarmService;
    services.push(s);
    return s;
  };
  const gw = {
    ensureNetwork: () => Promise.resolve({ id: "net", created: false }),
    services: () => Promise.resolve([...services]),
    nodes: () => Promise.resolve(nodes),
    tasks: () => Promise.resolve(tasks),
    create: (spec: DockerServiceSpec) => {
      created.push(spec);
      return Promise.resolve({ id: service(spec.labels ?? {}, spec.name).ID });
    },
    remove: (sid: string) => {
      removed.push(sid);
      services.splice(services.findIndex((s) => s.ID === sid), 1);
      return Promise.resolve();
    },
  } as unknown as SwarmGateway;
  return { gw, services, nodes, tasks, created, removed, service };
}

const node = (id: string, hostname: string, state: string) =>
  ({ ID: id, Description: { Hostname: hostname }, Status: { State: state } }) as SwarmNode;
const task = (
  t: { id: string; service: string; slot: number; node: string; desired: string; at: string },
) =>
  ({
    ID: t.id,
    ServiceID: t.service,
    Slot: t.slot,
    NodeID: t.node,
    DesiredState: t.desired,
    CreatedAt: t.at,
    UpdatedAt: t.at,
    Status: { State: "running" },
  }) as unknown as SwarmTask;

const spec = AppSpec.parse({
  services: [
    { name: "web", image: TEST_IMAGE, replicas: 2, depends_on: ["db"] },
    { name: "db", image: TEST_IMAGE },
  ],
});
const trigger = { kind: "create" as const, actor_type: "system" as const, actor_id: null };

dbTest(
  "apps reconciler: stuck deployments fail with a reason, missing services come back, orphans are reported, task moves are recorded once",
  async (h) => {
    const clock = manualClock();
    const store = createAppStore(h.db, clock);
    const orgId = await insertOrg(h.db, "acme");
    const swarm = scriptedSwarm();
    let clusterUp = true;
    const moved: string[] = [];
    const reconciler = createReconciler({
      store,
      cluster: () =>
        clusterUp
          ? Promise.resolve({
            gw: swarm.gw,
            info: { routingMesh: false, encryptedNetworks: false },
          })
          : Promise.reject(new Unavailable("The cluster's manager host is not connected")),
      orgSlug: () => Promise.resolve("acme"),
      clock,
      log: silentLogger,
      maxRepairsPerPass: 1,
      moved: (app, moves) => moved.push(...moves.map((m) => `${app.name}:${m.task_id}`)),
    });

    // shop runs deployment #1 (web and db); Swarm lost its web service.
    const shop = await store.create(orgId, { name: "shop", spec }, null);
    const d1 = await store.startDeployment(shop, {
      spec,
      trigger,
      images: { web: "sha256:" + "a".repeat(64), db: "sha256:" + "b".repeat(64) },
    });
    await store.setStatus(d1, "running");
    const labels = (app: string, service: string) => ({
      [LABELS.org]: orgId,
      [LABELS.app]: app,
      [LABELS.service]: service,
      [LABELS.deployment]: d1.id,
    });
    const db = swarm.service(labels(shop.id, "db"), "acme_shop_db");
    // blog is stopped and lost both services; stall's deployment #1 never finished.
    const blog = await store.create(orgId, { name: "blog", spec }, null);
    const b1 = await store.startDeployment(blog, { spec, trigger });
    await store.setStatus(b1, "running");
    await store.update(blog, { desired_state: "stopped" });
    const stall = await store.create(orgId, { name: "stall", spec }, null);
    const s1 = await store.startDeployment(stall, { spec, trigger });
    await store.setStatus(s1, "deploying");
    // Strays: a service of a deleted app, and one shop's deployment no longer has.
    const gone = swarm.service(labels(crypto.randomUUID(), "web"), "acme_gone_web");
    const old = swarm.service(labels(shop.id, "cache"), "acme_shop_cache");

    // Without a cluster only the store's part runs; stall is not stuck yet.
    clusterUp = false;
    let r = await reconciler.pass();
    assert.match(r.skipped ?? "", /not connected/);
    assert.deepEqual(r.stuck, []);
    clusterUp = true;

    clock.advance(16 * 60_000);
    r = await reconciler.pass();
    assert.deepEqual(r.stuck.map((x) => x.number), [1]);
    const failed = await store.deployment(stall, "1");
    assert.equal(failed.status, "failed");
    assert.match(failed.reason ?? "", /did not finish within 16 min/);
    assert.match((await store.events(stall))[0].message, /#1 failed: the deployment did not/);

    // One app repaired per pass: shop first (its web), blog the next pass.
    assert.equal(r.deferred, 1);
    assert.deepEqual(r.recreated.map((x) => [x.app_id, x.service]), [[shop.id, "web"]]);
    const web = swarm.created[0];
    assert.equal(web.name, "acme_shop_web");
    assert.equal(web.image, "sha256:" + "a".repeat(64), "the deployment's pinned image");
    assert.equal(web.replicas, 2);
    assert.equal(web.labels?.[LABELS.deployment], d1.id);
    assert.match((await store.events(shop))[0].message, /web was missing .* from deployment #1/);
    assert.deepEqual(
      r.orphans.map((o) => [o.id, o.why]).sort(),
      [[gone.ID, "app deleted"], [old.ID, "service not in the current deployment"]].sort(),
    );
    assert.deepEqual(swarm.removed, [], "orphans are reported, never removed unasked");

    r = await reconciler.pass();
    assert.deepEqual(r.recreated.map((x) => [x.app_id, x.service]).sort(), [
      [blog.id, "db"],
      [blog.id, "web"],
    ]);
    assert.ok(
      swarm.created.slice(1).every((s) => s.replicas === 0),
      "a stopped app comes back stopped",
    );
    r = await reconciler.pass();
    assert.deepEqual([r.recreated, r.deferred], [[], 0]);

    // Removing an orphan is an explicit action, refused for a service an app accounts for.
    await assert.rejects(() => reconciler.removeOrphan(db.ID), Conflict);
    await reconciler.removeOrphan(gone.ID);
    assert.deepEqual(swarm.removed, [gone.ID]);

    // node-2 went down; Swarm started web.1 again on node-1: one event, once.
    swarm.nodes.push(node("n1", "node-1", "ready"), node("n2", "node-2", "down"));
    const webId = swarm.services.find((s) => s.Spec.Name === "acme_shop_web")!.ID;
    swarm.tasks.push(
      task({
        id: "t-old",
        service: webId,
        slot: 1,
        node: "n2",
        desired: "shutdown",
        at: "2026-01-01T00:00:00.5Z",
      }),
      task({
        id: "t-new",
        service: webId,
        slot: 1,
        node: "n1",
        desired: "running",
        at: "2026-01-01T00:00:07Z",
      }),
      task({
        id: "t-db",
        service: db.ID,
        slot: 1,
        node: "n2",
        desired: "shutdown",
        at: "2026-01-01T00:00:00Z",
      }),
    );
    r = await reconciler.pass();
    assert.deepEqual(r.moves.map((m) => [m.service, m.from_node, m.to_node]), [
      ["web", "node-2", "node-1"],
    ]);
    assert.deepEqual(moved, ["shop:t-old"]);
    const timeline = await store.events(shop);
    assert.equal(timeline[0].kind, "node");
    assert.equal(timeline[0].message, "Task web.1 moved from node-2 (down) to node-1");
    r = await reconciler.pass();
    assert.deepEqual(r.moves, [], "a move is recorded once");
  },
);

dbTest(
  "[e2e] apps reconciler: tasks moved off a down node notify the organization's webhook once per failure, naming the app, the services and where they went",
  async (h) => {
    const s = testServices(h, undefined, loopbackAlertsEnv());
    const org = await s.orgs.create(SYSTEM_CTX, { name: "Acme", slug: "acme" });
    const rx = startReceiver({ secret: HOOK_SECRET });
    try {
      await s.alerts.channels.create(SYSTEM_CTX, org.id, {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: HOOK_SECRET },
      });
      const store = createAppStore(h.db, systemClock);
      const swarm = scriptedSwarm();
      const reconciler = createReconciler({
        store,
        cluster: () =>
          Promise.resolve({ gw: swarm.gw, info: { routingMesh: false, encryptedNetworks: false } }),
        orgSlug: () => Promise.resolve("acme"),
        clock: systemClock,
        log: silentLogger,
        // The module's own hook: the app page's timeline and the apps.tasks_moved event.
        moved: announceMoves(s),
      });
      const shop = await store.create(org.id, { name: "shop", spec }, null);
      const d1 = await store.startDeployment(shop, { spec, trigger, images: {} });
      await store.setStatus(d1, "running");
      const labelled = (service: string) =>
        swarm.service(
          { [LABELS.org]: org.id, [LABELS.app]: shop.id, [LABELS.service]: service },
          `acme_shop_${service}`,
        );
      const [web, db] = [labelled("web"), labelled("db")];
      swarm.nodes.push(node("n1", "node-1", "ready"), node("n2", "node-2", "down"));
      const lost = (id: string, service: string, at: string) =>
        task({ id, service, slot: 1, node: "n2", desired: "shutdown", at });
      const started = (id: string, service: string, at: string) =>
        task({ id, service, slot: 1, node: "n1", desired: "running", at });
      // node-2 went down; the first pass finds web's task started on node-1 ...
      swarm.tasks.push(
        lost("w-old", web.ID, "2026-01-01T00:00:00Z"),
        started("w-new", web.ID, "2026-01-01T00:01:00Z"),
      );
      assert.equal((await reconciler.pass()).moves.length, 1);
      await s.alerts.idle();
      // ... the next pass db's, from the same failure: on the timeline, not notified again.
      swarm.tasks.push(
        lost("d-old", db.ID, "2026-01-01T00:00:00Z"),
        started("d-new", db.ID, "2026-01-01T00:02:00Z"),
      );
      assert.equal((await reconciler.pass()).moves.length, 1);
      assert.equal((await reconciler.pass()).moves.length, 0);
      await s.alerts.idle();

      assert.equal(rx.got.length, 1, JSON.stringify(rx.got.map((g) => g.json)));
      const m = rx.got[0].json;
      assert.ok(rx.got[0].verified);
      assert.equal(m.event, "firing");
      assert.equal(m.rule, "App tasks moved off a failed node");
      assert.equal(m.title, "App shop: web moved off node-2 (down)");
      assert.equal(
        m.detail,
        "Swarm started its task of shop on other nodes after node-2 went down: web.1 → node-1",
      );
      assert.equal(m.host, "node-2");
      const lines = (await store.events(shop)).filter((e) => e.kind === "node").map((e) =>
        e.message
      );
      assert.deepEqual(lines.sort(), [
        "Task db.1 moved from node-2 (down) to node-1",
        "Task web.1 moved from node-2 (down) to node-1",
      ]);
    } finally {
      await rx.close();
    }
  },
);

Deno.test({
  name:
    "[docker] apps reconciler: a service removed behind Capstan's back comes back and serves; a stray labelled service is reported, then removed on request",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSingleNodeApps(SUITE, async (env, docker) => {
      const { apps, orgA, store } = env;
      const { reconciler } = env;
      const { app } = await apps.create(OWNER, orgA.id, {
        name: `shop-${env.run}`,
        spec: { services: [webService("hello"), dbService()] },
      });
      const d1 = await env.deployed(orgA.id, app.id, 1);
      assert.equal(d1.status, "running", d1.reason ?? "");
      assert.deepEqual((await reconciler.pass()).recreated, [], "nothing to do");

      const [web] = await docker.listServices({
        filters: { label: [`${LABELS.app}=${app.id}`, `${LABELS.service}=web`] },
      });
      await docker.removeService(web.ID);
      // A stray: Capstan's labels, but no app of that id.
      const stray = await docker.createService({
        name: testName(SUITE, "stray"),
        image: TEST_IMAGE,
        labels: {
          ...testLabels(SUITE),
          [LABELS.org]: orgA.id,
          [LABELS.app]: crypto.randomUUID(),
          [LABELS.service]: "web",
        },
        command: ["sleep", "600"],
        replicas: 0,
      });

      const r = await reconciler.pass();
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.recreated.map((x) => x.service), ["web"]);
      // Other tests' apps share this engine (and are orphans to this test's store): only org A's.
      const ours = (list: Orphan[]) => list.filter((o) => o.org_id === orgA.id);
      assert.deepEqual(ours(r.orphans).map((o) => [o.id, o.why]), [[stray.id, "app deleted"]]);
      await eventually(async () => {
        const s = (await apps.status(await store.get(orgA.id, app.id))).services
          .find((x) => x.name === "web");
        return s && s.running === 2 ? true : undefined;
      }, "the recreated web service to run 2 tasks");
      // It serves again under its in-app name, asked from the db's task.
      const status = await apps.status(await store.get(orgA.id, app.id));
      const dbTask = status.services.find((x) => x.name === "db")!.tasks
        .find((t) => t.state === "running" && t.container_id)!;
      await eventually(async () => {
        const got = await execOutput(docker, dbTask.container_id!, [
          "sh",
          "-c",
          "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 80 | tail -1",
        ]);
        return /^hello from /.test(got) || undefined;
      }, "the recreated web service to answer");
      const [again] = await docker.listServices({ filters: { id: [r.recreated[0].id] } });
      assert.equal(again.Spec.TaskTemplate.ContainerSpec.Image, d1.images.web);
      assert.equal(again.Spec.Labels[LABELS.deployment], d1.id);

      assert.deepEqual((await docker.listServices({ filters: { id: [stray.id] } })).length, 1);
      await reconciler.removeOrphan(stray.id);
      assert.deepEqual(await docker.listServices({ filters: { id: [stray.id] } }), []);
      assert.deepEqual(ours((await reconciler.pass()).orphans), []);
    }),
});
