/**
 * The apps pages through the whole app (no socket, no engine), on both dialects: the empty states
 * (no apps, no cluster); the new-app form refusing bad input with each message next to its field
 * and the input kept (the form's own checks and the service's `spec.services.0.*` fields); the app
 * page with its deployments, the diff of a deployment, the rollback confirmation, the edit form,
 * the typed-name delete; the list's search, pagination and quick actions; the Workers page and
 * Settings → Cluster with a cluster on record and its nodes scripted; and the policies: viewers
 * read but cannot post, org admins see Workers, only platform admins see Settings → Cluster,
 * another organization's app is a 404.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { AppSpec, type AppSpecInput } from "../lib/apps/spec.ts";
import type { NodeView } from "../lib/apps/cluster.ts";
import { Conflict } from "../lib/errors.ts";
import { fieldError as formFieldError, inputValue, textareaValue } from "./support/html.ts";

async function setup(h: DbHandle) {
  const t = testApp(h);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const eve = await t.user("eve@other.io", { org: "other", role: "owner" });
  const root = await t.user("root@hub.io", { admin: true });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const get = async (path: string, cookie = owner.cookie) => {
    const res = await t.request(path, { cookie });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  const post = async (path: string, fields: Record<string, string>, cookie = owner.cookie) => {
    const res = await t.request(path, {
      method: "POST",
      body: new URLSearchParams(fields),
      cookie,
    });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  return { t, s, org, owner, admin, member, viewer, eve, root, get, post };
}

/** A stored app with deployments as the deployer leaves them (no engine involved). */
async function storedApp(
  s: ReturnType<typeof testApp>["services"],
  orgId: string,
  name: string,
  specs: AppSpecInput[],
) {
  const store = s.apps.store;
  let app = await store.create(orgId, { name, spec: AppSpec.parse(specs[0]) }, null);
  for (const [i, input] of specs.entries()) {
    const spec = AppSpec.parse(input);
    if (i > 0) app = await store.update(app, { spec });
    const d = await store.startDeployment(app, {
      spec,
      trigger: { kind: i === 0 ? "create" : "deploy", actor_type: "user", actor_id: null },
      images: { web: `sha256:${String(i + 1).repeat(64)}` },
    });
    await store.setStatus(d, "deploying");
    await store.setStatus(d, "running");
    await store.event(app, "deploy", `Deployment #${d.number} is running`);
  }
  return await store.get(orgId, name);
}

const web = (image: string, env: Record<string, string> = {}, replicas = 2) => ({
  services: [{
    name: "web",
    image,
    env,
    replicas,
    ports: [{ target: 80, mode: "host" as const }],
    resources: { limits: { memory_bytes: 64 * 2 ** 20 } },
  }],
});

/** The message under field `name` of the app form. */
const fieldError = (html: string, name: string, prefix = "app") =>
  formFieldError(html, name, prefix);

const GOOD = {
  name: "shop",
  service: "web",
  image: "capstan-test/busybox:latest",
  command: "httpd\n-f\n-p\n80",
  env: "GREETING=hello",
  ports: "80",
  port_mode: "host",
  replicas: "2",
  health_interval_s: "10",
};

dbTest(
  "[e2e] apps pages: empty states, the new-app form's refusals next to their fields with the input kept, no cluster said plainly, viewers cannot post",
  async (h) => {
    const { get, post, owner, member, viewer, eve } = await setup(h);

    // Nav and the empty list: members get "New app", viewers only read.
    let r = await get("/o/acme/apps", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="\/o\/acme\/apps"[^>]*>Apps</, "the nav links Apps");
    assert.match(r.html, /No apps yet/);
    assert.match(r.html, /href="\/o\/acme\/apps\/new"/);
    r = await get("/o/acme/apps", viewer.cookie);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.html, /href="\/o\/acme\/apps\/new"/, "viewers are not offered New app");

    // The form, with its defaults, host mode explained and the missing cluster said.
    r = await get("/o/acme/apps/new", member.cookie);
    assert.equal(r.status, 200);
    assert.equal(inputValue(r.html, "service"), "web");
    assert.equal(inputValue(r.html, "replicas"), "1");
    assert.match(r.html, /<option value="host" selected/);
    assert.match(r.html, /Host mode is the default/);
    assert.match(r.html, /There is no cluster yet/);
    assert.equal((await get("/o/acme/apps/new", viewer.cookie)).status, 403);

    // The form's own checks: lines that are not KEY=value or a port, numbers that are not numbers.
    r = await post("/o/acme/apps/new", {
      ...GOOD,
      env: "GREETING=hello\nNOEQUALS",
      ports: "http",
      replicas: "two",
      memory_limit_mib: "lots",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "env") ?? "", /"NOEQUALS" is not a KEY=value line/);
    assert.match(fieldError(r.html, "ports") ?? "", /"http" is not a port/);
    assert.equal(fieldError(r.html, "replicas"), "Must be a whole number");
    assert.equal(fieldError(r.html, "memory_limit_mib"), "Must be a whole number");
    assert.equal(textareaValue(r.html, "env"), "GREETING=hello\nNOEQUALS", "the input is kept");
    assert.equal(inputValue(r.html, "name"), "shop");

    // The service's rules, on the fields they name (spec.services.0.image, …limits.memory_bytes).
    r = await post("/o/acme/apps/new", {
      ...GOOD,
      image: "Not An Image!",
      env: "1BAD=x",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "image"), "the image's message sits under Image");
    assert.ok(fieldError(r.html, "env"), "the bad variable name's message sits under Environment");
    assert.equal(inputValue(r.html, "image"), "Not An Image!");
    // Rules across fields (checked once each field is well-formed).
    r = await post("/o/acme/apps/new", {
      ...GOOD,
      memory_limit_mib: "16",
      memory_reservation_mib: "32",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "memory_limit_mib"), "Memory limit below reservation");
    assert.equal(inputValue(r.html, "memory_reservation_mib"), "32");

    // A bad app name is the service's first refusal, on the name.
    r = await post("/o/acme/apps/new", { ...GOOD, name: "Shop_1" }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "name") ?? "", /lowercase letters, digits or dashes/);

    // A valid app without a cluster: 503, said at the top of the form, input kept.
    r = await post("/o/acme/apps/new", GOOD, member.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /role="alert"[^>]*>There is no cluster yet/);
    assert.equal(textareaValue(r.html, "command"), "httpd\n-f\n-p\n80");

    // Viewers cannot post; another organization's member finds no such organization.
    assert.equal((await post("/o/acme/apps/new", GOOD, viewer.cookie)).status, 403);
    assert.equal((await post("/o/acme/apps/new", GOOD, eve.cookie)).status, 404);

    // Workers: org admins, an empty state without a cluster; Settings → Cluster: platform admins.
    r = await get("/o/acme/workers", owner.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /There is no cluster yet/);
    assert.match(r.html, /A platform admin creates it in Settings → Cluster/);
    assert.equal((await get("/o/acme/workers", member.cookie)).status, 403);
    assert.equal((await get("/o/acme/settings/cluster", owner.cookie)).status, 404);
  },
);

dbTest(
  "[e2e] apps pages: an app's page, deployments and their diff, rollback and delete confirmations, edit, the list's search, pages and quick actions",
  async (h) => {
    const { s, org, get, post, member, viewer, eve } = await setup(h);
    const app = await storedApp(s, org.id, "shop", [
      web("capstan-test/busybox:1"),
      web("capstan-test/busybox:2", { GREETING: "hi", MODE: "fast" }, 3),
    ]);

    // The app page: state, both deployments (the first can be rolled back to), the timeline; the
    // cluster's absence is said, and the services panel still renders (island or not).
    let r = await get("/o/acme/apps/shop", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /<h1>shop<\/h1>/);
    assert.match(r.html, /data-deployment-status="[^"]+" data-status="running"/);
    assert.match(r.html, /data-status="superseded"/);
    assert.match(r.html, /There is no cluster yet/);
    assert.match(r.html, /Deployment #2 is running/, "the timeline");
    assert.match(r.html, /<h2 id="app-services-title">Services<\/h2>/);
    assert.doesNotMatch(r.html, /Roll back to this/, "viewers are not offered a rollback");
    assert.doesNotMatch(r.html, /action="\/o\/acme\/apps\/shop\/deploy"/);
    r = await get("/o/acme/apps/shop", member.cookie);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/deployments\/1\/rollback"/);
    assert.doesNotMatch(r.html, /deployments\/2\/rollback/, "not to the one running now");
    assert.match(r.html, /action="\/o\/acme\/apps\/shop\/deploy"/);
    assert.match(r.html, /action="\/o\/acme\/apps\/shop\/scale"/);
    assert.equal((await get(`/o/acme/apps/${app.id}`, viewer.cookie)).status, 200, "by id too");

    // The diff: image, env keys (never values), replicas.
    r = await get("/o/acme/apps/shop/deployments/2", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Changes since #1/);
    assert.match(r.html, /capstan-test\/busybox:1[^<]*<\/del>/);
    assert.match(r.html, /capstan-test\/busybox:2[^<]*<\/ins>/);
    assert.match(r.html, /added <code>GREETING, MODE<\/code>/);
    assert.doesNotMatch(r.html, /fast/, "environment values are not shown");
    assert.match(r.html, /data-diff-field="replicas"/);
    r = await get("/o/acme/apps/shop/deployments/1", viewer.cookie);
    assert.match(r.html, /The first deployment/);
    assert.equal((await get("/o/acme/apps/shop/deployments/9", viewer.cookie)).status, 404);
    assert.equal((await get("/o/acme/apps/shop/deployments/x", viewer.cookie)).status, 404);

    // Rollback: a confirmation for members; the POST without a cluster says why on the page.
    r = await get("/o/acme/apps/shop/deployments/1/rollback", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Roll shop back to deployment #1\?/);
    assert.equal(
      (await get("/o/acme/apps/shop/deployments/1/rollback", viewer.cookie)).status,
      403,
    );
    assert.equal(
      (await post("/o/acme/apps/shop/deployments/1/rollback", {}, viewer.cookie)).status,
      403,
    );

    // Quick actions from the list come back to it; without a cluster the list says why.
    r = await post("/o/acme/apps/shop/stop", { next: "/o/acme/apps" }, member.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /<h1>Apps<\/h1>/);
    assert.match(r.html, /There is no cluster yet/);
    for (const a of ["start", "stop", "restart", "deploy"]) {
      assert.equal((await post(`/o/acme/apps/shop/${a}`, {}, viewer.cookie)).status, 403, a);
    }
    // Scale refuses a bad number next to nothing it can name: said at the top of the app page.
    r = await post("/o/acme/apps/shop/scale", { service: "web", replicas: "-1" }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(r.html, /replicas: must be a whole number 0–100/);

    // Edit: the saved service prefilled; a bad change refused on its field, a good one saved (the
    // running deployment is left alone and the page says the saved configuration differs).
    r = await get("/o/acme/apps/shop/edit", member.cookie);
    assert.equal(r.status, 200);
    assert.equal(inputValue(r.html, "image"), "capstan-test/busybox:2");
    assert.equal(textareaValue(r.html, "env"), "GREETING=hi\nMODE=fast");
    assert.equal(textareaValue(r.html, "ports"), "80");
    assert.equal(inputValue(r.html, "memory_limit_mib"), "64");
    const edit = {
      name: "shop",
      service: "web",
      image: "capstan-test/busybox:3",
      env: "GREETING=hey",
      ports: "80",
      port_mode: "host",
      replicas: "3",
      memory_limit_mib: "64",
      edit_service: "web",
    };
    r = await post("/o/acme/apps/shop/edit", {
      ...edit,
      memory_reservation_mib: "128",
      then: "save",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "memory_limit_mib"), "Memory limit below reservation");
    r = await post("/o/acme/apps/shop/edit", { ...edit, then: "save" }, member.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/apps/shop?done=saved");
    r = await get(r.location!, member.cookie);
    assert.match(r.html, /Changes saved/);
    assert.match(r.html, /The saved configuration differs from the one running \(deployment #2\)/);
    assert.equal(
      (await s.apps.store.get(org.id, "shop")).spec.services[0].image,
      "capstan-test/busybox:3",
    );
    assert.equal(
      (await post("/o/acme/apps/shop/edit", { ...edit, then: "save" }, viewer.cookie)).status,
      403,
    );

    // Delete: the name must be typed; the answer without a cluster is said on the confirmation.
    r = await get("/o/acme/apps/shop/delete", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Type shop to confirm/);
    r = await post(
      "/o/acme/apps/shop/delete",
      { confirm_name: "shopp", volumes: "on" },
      member.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(
      fieldError(r.html, "confirm_name", "del") ?? "",
      /type the app's name, shop, exactly/i,
    );
    assert.equal(inputValue(r.html, "confirm_name"), "shopp");
    assert.match(r.html, /name="volumes"[^>]*checked/, "the volumes choice is kept");
    r = await post("/o/acme/apps/shop/delete", { confirm_name: "shop" }, member.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /There is no cluster yet/);
    assert.equal(
      (await post("/o/acme/apps/shop/delete", { confirm_name: "shop" }, viewer.cookie)).status,
      403,
    );
    assert.ok(await s.apps.store.get(org.id, "shop"), "still there");

    // Another organization cannot see it, even by its own slug.
    assert.equal((await get("/o/acme/apps/shop", eve.cookie)).status, 404);
    assert.equal((await get("/o/other/apps/shop", eve.cookie)).status, 404);

    // The list: the row, search, and pages of 20.
    for (let i = 0; i < 24; i++) {
      await s.apps.store.create(org.id, {
        name: `app-${String(i).padStart(2, "0")}`,
        spec: AppSpec.parse(web("capstan-test/busybox:1")),
      }, null);
    }
    r = await get("/o/acme/apps", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /1–20 of 25/);
    assert.match(r.html, /data-app-row="app-00"/);
    assert.match(r.html, /not deployed/);
    assert.doesNotMatch(r.html, /data-app-row="shop"/, "shop sorts onto the second page");
    assert.match(r.html, /href="\/o\/acme\/apps\?offset=20"/);
    r = await get("/o/acme/apps?offset=20", viewer.cookie);
    assert.match(r.html, /21–25 of 25/);
    assert.match(r.html, /data-app-row="shop"/);
    r = await get("/o/acme/apps?q=sho", member.cookie);
    assert.match(r.html, /data-app-row="shop"/);
    assert.doesNotMatch(r.html, /data-app-row="app-00"/);
    assert.match(
      r.html,
      /action="\/o\/acme\/apps\/shop\/(stop|start)"/,
      "quick actions for members",
    );
    assert.match(
      r.html,
      /name="next" value="\/o\/acme\/apps\?q=sho"/,
      "they come back to the search",
    );
    r = await get("/o/acme/apps?q=zzz", member.cookie);
    assert.match(r.html, /No apps match this search/);
    // Last, as the service saves the snapshot's spec before it finds there is no cluster.
    r = await post("/o/acme/apps/shop/deployments/1/rollback", {}, member.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /There is no cluster yet/);
  },
);

dbTest(
  "[e2e] apps pages: Workers and Settings → Cluster with a cluster on record (nodes scripted): facts said plainly, actions on this organization's hosts only, confirmations, platform admins only",
  async (h) => {
    const { t, s, org, get, post, owner, admin, member, root } = await setup(h);
    const other = (await s.orgs.bySlug("other"))!;
    const manager = await s.hosts.ensureLocal(org.id, "node-a");
    const { host: worker } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "node-b" });
    const { host: foreign } = await s.hosts.create(SYSTEM_CTX, other.id, { name: "node-x" });
    const now = Date.now();
    await s.db.insertInto("swarm_cluster").values({
      id: "cluster",
      swarm_id: "c".repeat(25),
      manager_host_id: manager.id,
      advertise_addr: "10.0.0.5",
      routing_mesh: 0,
      encrypted_networks: 0,
      adopted: 1,
      created_by: null,
      created_at: now,
    }).execute();
    for (
      const [h2, id, role] of [[manager, "a", "manager"], [worker, "b", "worker"], [
        foreign,
        "x",
        "worker",
      ]] as const
    ) {
      await s.db.insertInto("swarm_members").values({
        host_id: h2.id,
        node_id: id.repeat(25),
        role,
        joined_at: now,
      }).execute();
    }
    const node = (
      hostId: string,
      id: string,
      name: string,
      extra: Partial<NodeView> = {},
    ): NodeView => ({
      node_id: id.repeat(25),
      host_id: hostId,
      hostname: name,
      role: "worker",
      availability: "active",
      state: "ready",
      addr: "10.0.0.9",
      leader: false,
      reachability: null,
      engine_version: "20.10.24",
      cpus: 2,
      memory_bytes: 4 * 2 ** 30,
      reserved_cpus: 0.5,
      reserved_memory_bytes: 2 ** 30,
      tasks: 3,
      labels: {},
      ...extra,
    });
    // Last heartbeats: the manager's agent answered 10 s ago, the worker's 10 min ago (over the
    // 120 s default timeout), the other organization's a moment ago.
    const seen = async (hostId: string, ago: number) =>
      await s.db.updateTable("hosts").set({ last_seen_at: now - ago }).where("id", "=", hostId)
        .execute();
    await seen(manager.id, 10_000);
    await seen(worker.id, 600_000);
    await seen(foreign.id, 5000);
    const cluster = t.services.cluster as unknown as Record<string, unknown>;
    cluster.nodes = () =>
      Promise.resolve([
        node(manager.id, "a", "node-a", {
          role: "manager",
          leader: true,
          reachability: "reachable",
        }),
        node(worker.id, "b", "node-b", { availability: "pause" }),
        node(foreign.id, "x", "node-x", { state: "down" }),
      ]);
    const calls: string[] = [];
    cluster.setAvailability = (_ctx: unknown, hostId: string, a: string) => {
      calls.push(`${hostId}:${a}`);
      return Promise.resolve({});
    };
    cluster.setRole = (_ctx: unknown, hostId: string, role: string) => {
      calls.push(`${hostId}:${role}`);
      return Promise.resolve();
    };

    // Workers: every node, health at the top, actions on this organization's hosts only.
    let r = await get("/o/acme/workers", admin.cookie);
    assert.equal(r.status, 200);
    for (const n of ["node-a", "node-b", "node-x"]) {
      assert.match(r.html, new RegExp(`data-node="${n}"`));
    }
    assert.match(r.html, /2 of 3<\/span><span class="stat-label">nodes ready/);
    assert.match(r.html, /node-x\s*is\s*down/);
    // Heartbeats: the age per node, "unhealthy" past the timeout, counted at the top; none shown
    // for another organization's host.
    const beat = (html: string, node: string) =>
      html.match(
        new RegExp(`data-node="${node}"[\\s\\S]*?data-label="Heartbeat">([\\s\\S]*?)</td>`),
      )?.[1].replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim();
    assert.match(beat(r.html, "node-a") ?? "", /^1\d s ago$/);
    assert.equal(beat(r.html, "node-b"), "unhealthy 10 min ago");
    assert.equal(beat(r.html, "node-x"), "—");
    assert.match(r.html, /1<\/span><span class="stat-label">nodes unhealthy/);
    assert.match(r.html, /No heartbeat for over 2 min from the agent of\s*node-b\./);
    assert.match(r.html, /pings each agent every\s*30 s/);
    assert.match(r.html, /0.5 of 2/);
    assert.match(r.html, /1.0 GiB of 4.0 GiB/);
    assert.match(
      r.html,
      new RegExp(`/o/acme/workers/${worker.id}/active`),
      "a paused node can be activated",
    );
    assert.match(r.html, new RegExp(`/o/acme/workers/${worker.id}/promote`));
    assert.doesNotMatch(
      r.html,
      new RegExp(`/o/acme/workers/${manager.id}/leave`),
      "the manager host cannot leave",
    );
    assert.doesNotMatch(
      r.html,
      new RegExp(`/workers/${foreign.id}/`),
      "another organization's host",
    );
    assert.equal((await get("/o/acme/workers", member.cookie)).status, 403);

    // Actions: pause/activate post at once; drain, demote and leave ask first.
    r = await post(`/o/acme/workers/${worker.id}/active`, {}, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/workers?done=node_active");
    r = await get(`/o/acme/workers/${worker.id}/drain`, admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Drain node-b\?/);
    assert.match(r.html, /replacements start there first/);
    r = await post(`/o/acme/workers/${worker.id}/drain`, {}, admin.cookie);
    assert.equal(r.location, "/o/acme/workers?done=node_drained");
    r = await post(`/o/acme/workers/${worker.id}/promote`, {}, admin.cookie);
    assert.equal(r.status, 303);
    assert.deepEqual(calls, [`${worker.id}:active`, `${worker.id}:drain`, `${worker.id}:manager`]);
    assert.equal((await post(`/o/acme/workers/${foreign.id}/pause`, {}, admin.cookie)).status, 404);
    assert.equal((await post(`/o/acme/workers/${worker.id}/pause`, {}, member.cookie)).status, 403);
    assert.equal((await get(`/o/acme/workers/${foreign.id}/drain`, owner.cookie)).status, 404);
    assert.equal(calls.length, 3, "refused actions reach nothing");
    // A platform admin may act on any host of the cluster.
    r = await get("/o/acme/workers", root.cookie);
    assert.match(r.html, new RegExp(`/workers/${foreign.id}/leave`));
    assert.match(beat(r.html, "node-x") ?? "", /^\d s ago$/, "platform admins see every agent");

    // Settings → Cluster: the facts said plainly, the join form; platform admins only.
    r = await get("/o/acme/settings/cluster", root.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /aria-current="page"[^>]*>Cluster</, "the Cluster tab");
    assert.match(r.html, /Off: this kernel has no IPVS/);
    assert.match(r.html, /Off: this kernel cannot encrypt overlay traffic/);
    assert.match(r.html, /<dd>node-a<\/dd>/, "the manager");
    assert.match(r.html, /3 \(1 manager, 2 workers\), 2 ready/);
    assert.match(r.html, /Join a host/);
    assert.match(r.html, /No online host of this organization is outside the cluster/);
    assert.equal((await get("/o/acme/settings/cluster", owner.cookie)).status, 404);
    assert.equal(
      (await post("/o/acme/settings/cluster/join", { host: worker.id }, owner.cookie)).status,
      404,
    );
    assert.equal(
      (await post("/o/acme/settings/cluster/create", { host: manager.id }, owner.cookie)).status,
      404,
    );
  },
);

dbTest(
  "[e2e] apps pages: Settings → Cluster without a cluster (agent and engine scripted): the form for an online host, the address prefilled from the engine, a blank address refused, the adopt confirmation, created",
  async (h) => {
    const { t, s, org, get, post, root } = await setup(h);
    const host = await s.hosts.ensureLocal(org.id, "node-a");
    const { host: offline } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "node-off" });
    const agents = t.services.agents as unknown as Record<string, unknown>;
    agents.isOnline = (id: string) => id === host.id;
    const cluster = t.services.cluster as unknown as Record<string, unknown>;
    const state = {
      node_id: "a".repeat(25),
      state: "active",
      manager: true,
      cluster_id: "c".repeat(25),
      node_addr: "10.0.0.5",
      error: "",
      kernel: { ipvs: false, xfrm: false },
    };
    cluster.state = () => Promise.resolve(state);
    const created: unknown[] = [];
    cluster.create = (_ctx: unknown, input: { adopt?: boolean }) => {
      created.push(input);
      if (!input.adopt) {
        return Promise.reject(
          new Conflict(
            "This host's engine is already a swarm manager: confirm to adopt that swarm",
            "adopt_required",
          ),
        );
      }
      return Promise.resolve({});
    };

    // The form: the online host only, the engine's address offered, adoption announced.
    let r = await get("/o/acme/settings/cluster", root.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Create cluster on node-a/);
    assert.doesNotMatch(r.html, /node-off/, "offline hosts cannot create it");
    assert.equal(inputValue(r.html, "advertise_addr"), "10.0.0.5");
    assert.match(
      r.html,
      /node-a&#39;s engine is already a manager of a swarm|node-a's engine is already a manager of a swarm/,
    );
    // A blank address is refused on its field, an offline host said so, an unknown one a 404.
    r = await post(
      "/o/acme/settings/cluster/create",
      { host: host.id, advertise_addr: " " },
      root.cookie,
    );
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "advertise_addr", "cl"), "Is required");
    r = await post("/o/acme/settings/cluster/create", {
      host: offline.id,
      advertise_addr: "10.0.0.6",
    }, root.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /node-off(&#39;|')s agent is not connected/);
    assert.equal(
      (await post("/o/acme/settings/cluster/create", {
        host: "01900000-0000-7000-8000-000000000000",
        advertise_addr: "10.0.0.6",
      }, root.cookie)).status,
      404,
    );
    assert.equal(created.length, 0);
    // The engine is a manager already: confirm adopting, then it is created.
    r = await post(
      "/o/acme/settings/cluster/create",
      { host: host.id, advertise_addr: "10.0.0.5" },
      root.cookie,
    );
    assert.equal(r.status, 200);
    assert.match(r.html, /Adopt the swarm of node-a\?/);
    assert.match(r.html, /name="adopt" value="on"/);
    r = await post("/o/acme/settings/cluster/create", {
      host: host.id,
      advertise_addr: "10.0.0.5",
      adopt: "on",
    }, root.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/settings/cluster?done=created");
    assert.deepEqual(created.map((x) => (x as { adopt: boolean }).adopt), [false, true]);

    // Engines in no swarm get a new cluster, said so.
    state.state = "inactive";
    state.node_addr = "";
    r = await get("/o/acme/settings/cluster", root.cookie);
    assert.match(r.html, /is in no swarm: a new single-node cluster is created on it/);
    assert.equal(inputValue(r.html, "advertise_addr") ?? "", "");
  },
);
