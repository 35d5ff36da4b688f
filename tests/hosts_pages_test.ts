/**
 * Hosts pages through the whole app (no socket): the list with a live host, adding a host (the
 * token is shown once, never again), rename and labels with PRG, and removal with its
 * confirmation page. The live host is an in-process agent on the real engine when there is one.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { statusOf } from "./support/errors.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import type { Hello } from "../lib/protocol/messages.ts";

function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

/** A hello as an agent sends it, for a host "connected" through a scripted transport. */
const HELLO: Hello = {
  t: "hello",
  protocol: 1,
  agent_version: "0.1.0",
  machine_id: "machine-test-pages",
  hostname: "box1",
  engine: {
    docker_version: "20.10.24",
    api_version: "1.41",
    os: "Debian GNU/Linux 12 (bookworm)",
    kernel: "6.1.0",
    arch: "x86_64",
    cpus: 8,
    memory_bytes: 16 * 2 ** 30,
    containers_running: 2,
    containers_total: 5,
    images: 3,
    storage_driver: "overlay2",
    docker_root_dir: "/var/lib/docker",
    name: "box1",
  },
};

dbTest("[e2e] hosts pages: list with status and facts, detail with engine facts", async (h) => {
  const t = testApp(h);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const org = (await t.services.orgs.bySlug("acme"))!;

  // Empty state: admins get "Add host", viewers are told whom to ask.
  let html = await (await t.request("/o/acme/hosts", { cookie: owner.cookie })).text();
  assert.match(html, /No hosts yet/);
  assert.match(html, /href="\/o\/acme\/hosts\/new"/);
  html = await (await t.request("/o/acme/hosts", { cookie: viewer.cookie })).text();
  assert.doesNotMatch(html, /hosts\/new/);
  html = await (await t.request("/o/acme", { cookie: owner.cookie })).text();
  assert.match(html, /Add a host/);

  // One host online (hello through a scripted transport), one waiting for its agent.
  const local = await t.services.hosts.ensureLocal(org.id, "box1", HELLO.machine_id);
  const [hubEnd, agentEnd] = memoryTransportPair();
  const attached = t.services.agents.attach(local, hubEnd);
  agentEnd.send(JSON.stringify(HELLO));
  await attached;
  await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "db-1", labels: { env: "prod" } });

  const res = await t.request("/o/acme/hosts", { cookie: viewer.cookie });
  assert.equal(res.status, 200);
  html = await res.text();
  assert.match(html, /1 of 2 online/);
  assert.match(html, /badge-ok">online</);
  assert.match(html, /waiting for agent/);
  assert.match(html, /20\.10\.24/);
  assert.match(html, /16 GiB/);
  assert.match(html, /Debian GNU\/Linux 12/);
  assert.match(html, /env=prod/);
  assert.doesNotMatch(html, /Add host/, "viewers get no add button");

  html = await (await t.request(`/o/acme/hosts/${local.id}`, { cookie: viewer.cookie })).text();
  for (const fact of ["overlay2", "/var/lib/docker", "1.41", "6.1.0", "x86_64"]) {
    assert.ok(html.includes(fact), `detail shows ${fact}`);
  }
  assert.doesNotMatch(html, /action="[^"]*\/rename"/, "viewers get no admin forms");
  html = await (await t.request(`/o/acme/hosts/${local.id}`, { cookie: owner.cookie })).text();
  assert.match(html, /action="[^"]*\/rename"/);
  assert.match(html, /no token to rotate/);

  html = await (await t.request("/o/acme", { cookie: owner.cookie })).text();
  assert.match(html, /Hosts \(1 online\)/);

  hubEnd.close();
});

dbTest("[e2e] hosts pages: add a host shows the token and install command once", async (h) => {
  const t = testApp(h);
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });

  assert.equal((await t.request("/o/acme/hosts/new", { cookie: member.cookie })).status, 403);
  const formPage = await t.request("/o/acme/hosts/new", { cookie: admin.cookie });
  assert.equal(formPage.status, 200);

  // Invalid input comes back with the values kept and a message per field.
  let res = await t.request("/o/acme/hosts", {
    ...form({ name: "bad name; rm", labels: "env=prod" }),
    cookie: admin.cookie,
  });
  assert.equal(res.status, 400);
  let html = await res.text();
  assert.match(html, /value="bad name; rm"/);
  assert.match(html, /field-error/);
  res = await t.request("/o/acme/hosts", {
    ...form({ name: "web-1", labels: "no-equals-sign" }),
    cookie: admin.cookie,
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /line 1: write labels as key=value/i);

  res = await t.request("/o/acme/hosts", {
    ...form({ name: "web-1", labels: "env=prod\nrole=web" }),
    cookie: admin.cookie,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  html = await res.text();
  const token = /cape_[\w-]{43}/.exec(html)?.[0];
  assert.ok(token, "the enrollment token is on the page");
  assert.ok(
    html.includes(
      `curl -fsSL http://hub.test/api/v1/agent/install.sh | sudo HUB=http://hub.test TOKEN=${token} sh`,
    ),
  );

  // Never again: not on the list, not on the host page.
  const list = await (await t.request("/o/acme/hosts", { cookie: admin.cookie })).text();
  assert.ok(!list.includes(token!));
  const host = (await t.services.hosts.list((await t.services.orgs.bySlug("acme"))!.id))[0];
  assert.deepEqual(host.labels, { env: "prod", role: "web" });
  const detail = await (await t.request(`/o/acme/hosts/${host.id}`, { cookie: admin.cookie }))
    .text();
  assert.ok(!detail.includes(token!));
  assert.match(detail, /New enrollment token/);

  // A duplicate name is a 409 on the form, input kept.
  res = await t.request("/o/acme/hosts", { ...form({ name: "web-1" }), cookie: admin.cookie });
  assert.equal(res.status, 409);
  assert.match(await res.text(), /already in use/);

  // A fresh enrollment token replaces the unused one.
  res = await t.request(`/o/acme/hosts/${host.id}/enrollment`, {
    ...form({}),
    cookie: admin.cookie,
  });
  assert.equal(res.status, 200);
  const second = /cape_[\w-]{43}/.exec(await res.text())?.[0];
  assert.ok(second && second !== token);
  await assert.rejects(
    t.services.hosts.enroll(SYSTEM_CTX, {
      token: token!,
      machineId: "machine-xx-01",
      hostname: "x",
    }),
    (e) => statusOf(e) === 401,
  );
});

dbTest(
  "[e2e] hosts pages: rename and labels with PRG; remove through a confirmation page",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const org = (await t.services.orgs.bySlug("acme"))!;
    const { host } = await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
    await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "web-2" });
    const path = `/o/acme/hosts/${host.id}`;

    let res = await t.request(`${path}/rename`, {
      ...form({ name: "web-9" }),
      cookie: admin.cookie,
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `${path}?ok=host_renamed`);
    let html = await (await t.request(`${path}?ok=host_renamed`, { cookie: admin.cookie })).text();
    assert.match(html, /Host renamed\./);
    assert.match(html, /<h1>web-9<\/h1>/);

    res = await t.request(`${path}/rename`, { ...form({ name: "web-2" }), cookie: admin.cookie });
    assert.equal(res.status, 409);
    html = await res.text();
    assert.match(html, /already in use/);
    assert.match(html, /value="web-2"/);

    res = await t.request(`${path}/labels`, {
      ...form({ labels: "tier=gold\n\nzone=a" }),
      cookie: admin.cookie,
    });
    assert.equal(res.status, 303);
    assert.deepEqual((await t.services.hosts.get(org.id, host.id)).labels, {
      tier: "gold",
      zone: "a",
    });
    res = await t.request(`${path}/labels`, {
      ...form({ labels: "bad key=1" }),
      cookie: admin.cookie,
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /bad key=1/, "input kept");

    // Remove: the GET is a confirmation with the history choice; the POST does it.
    html = await (await t.request(`${path}/remove`, { cookie: admin.cookie })).text();
    assert.match(html, /name="history" value="keep" checked/);
    assert.match(html, /name="history" value="delete"/);
    assert.match(html, new RegExp(`<form method="post" action="${path}/remove"`));
    res = await t.request(`${path}/remove`, { ...form({ history: "keep" }), cookie: admin.cookie });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/o/acme/hosts?ok=host_removed");
    assert.equal((await t.request(path, { cookie: admin.cookie })).status, 404);
    const rows = await t.services.audit.list({ orgId: org.id, action: "host.removed", limit: 5 });
    assert.equal(rows.rows[0].metadata.keep_history, true);
  },
);

dbTest("[e2e] hosts API: validation, roles, rotate on an offline host, delete", async (h) => {
  const t = testApp(h);
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const adminToken = await t.token(admin.id, "acme");
  const viewerToken = await t.token(viewer.id, "acme", "read");

  for (const name of ["; $() | & \n ../", "..", "-x", "a".repeat(65), "a b"]) {
    const r = await t.request("/api/v1/orgs/acme/hosts", {
      method: "POST",
      token: adminToken,
      json: { name },
    });
    assert.equal(r.status, 400, name);
    assert.ok((await r.json()).error.fields.name, name);
  }
  let r = await t.request("/api/v1/orgs/acme/hosts", {
    method: "POST",
    token: adminToken,
    json: { name: "ok-1", labels: { "bad key": "x" } },
  });
  assert.equal(r.status, 400);
  await r.body?.cancel();

  r = await t.request("/api/v1/orgs/acme/hosts", {
    method: "POST",
    token: adminToken,
    json: { name: "ok-1", labels: { env: "prod" } },
  });
  assert.equal(r.status, 201);
  const created = await r.json();
  assert.match(
    created.enrollment.install_command,
    /install\.sh \| sudo HUB=http:\/\/hub\.test TOKEN=cape_/,
  );
  const id = created.host.id;

  r = await t.request("/api/v1/orgs/acme/hosts", { token: viewerToken });
  const list = await r.json();
  assert.equal(list.items.length, 1);
  assert.ok(!JSON.stringify(list).includes("cape_"), "no token in lists");

  r = await t.request(`/api/v1/orgs/acme/hosts/${id}`, {
    method: "PATCH",
    token: adminToken,
    json: { name: "ok-2", labels: { a: "b" } },
  });
  assert.equal(r.status, 200);
  assert.deepEqual((await r.json()).labels, { a: "b" });

  // Enroll, then rotate while the agent is offline: not delivered, the old token dies.
  const enrolled = await t.services.hosts.enroll(SYSTEM_CTX, {
    token: created.enrollment.token,
    machineId: "machine-api-0001",
    hostname: "h",
  });
  r = await t.request(`/api/v1/orgs/acme/hosts/${id}/enrollment`, {
    method: "POST",
    token: adminToken,
  });
  assert.equal(r.status, 409, "enrolled hosts get no new enrollment token");
  await r.body?.cancel();
  r = await t.request(`/api/v1/orgs/acme/hosts/${id}/rotate-token`, {
    method: "POST",
    token: adminToken,
  });
  assert.equal(r.status, 200);
  const rotated = await r.json();
  assert.equal(rotated.delivered, false);
  assert.equal(await t.services.hosts.byToken(enrolled.token), undefined);
  assert.ok(await t.services.hosts.byToken(rotated.host_token));

  r = await t.request(`/api/v1/orgs/acme/hosts/${id}?keep_history=false`, {
    method: "DELETE",
    token: viewerToken,
  });
  assert.equal(r.status, 403);
  await r.body?.cancel();
  r = await t.request(`/api/v1/orgs/acme/hosts/${id}?keep_history=false`, {
    method: "DELETE",
    token: adminToken,
  });
  assert.equal(r.status, 204);
  assert.equal(await t.services.hosts.byToken(rotated.host_token), undefined);
});

dbTest("[e2e] agent enroll API: bad tokens are 401 and rate-limited per IP", async (h) => {
  const t = testApp(h);
  const send = (token: string) =>
    t.request("/api/v1/agent/enroll", {
      method: "POST",
      json: { token, machine_id: "machine-rate-0001", hostname: "h" },
    });
  for (let i = 0; i < 10; i++) {
    const r = await send("cape_" + "x".repeat(43));
    assert.equal(r.status, 401);
    await r.body?.cancel();
  }
  const limited = await send("cape_" + "y".repeat(43));
  assert.equal(limited.status, 429);
  await limited.body?.cancel();
  const bad = await t.request("/api/v1/agent/enroll", {
    method: "POST",
    json: { token: "x", machine_id: "no", hostname: "h" },
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});
