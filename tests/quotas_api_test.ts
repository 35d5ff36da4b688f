/**
 * Quotas through the HTTP API: who may read and set them, validation naming the field, and the
 * 409 `quota_exceeded` body when parallel app creates race for the last unit (both dialects).
 * Apps are saved with `deploy: false`: admission happens before Swarm is touched.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const web = (cpus: number) => ({
  services: [{
    name: "web",
    image: "capstan-test/busybox:latest",
    resources: { reservations: { cpus } },
  }],
});

dbTest("[e2e] quotas API: members read, platform admins set; 409 names the numbers", async (h) => {
  const t = testApp(h);
  const admin = (await t.user("root@capstan.io", { admin: true })).cookie;
  const member = (await t.user("m@acme.io", { org: "acme", role: "member" })).cookie;
  const owner = (await t.user("o@acme.io", { org: "acme", role: "owner" })).cookie;

  // Members (and org owners) cannot set quotas; platform admins can.
  for (const cookie of [member, owner]) {
    const r = await t.request("/api/v1/quotas/orgs/acme/overrides/apps", {
      method: "PUT",
      cookie,
      json: { value: 100, reason: "more" },
    });
    assert.equal(r.status, 403);
    await r.body?.cancel();
  }
  let r = await t.request("/api/v1/quotas/defaults", {
    method: "PUT",
    cookie: admin,
    json: { cpu_millis: 1.5 },
  });
  assert.equal(r.status, 400);
  assert.ok((await r.json()).error.fields.cpu_millis);
  r = await t.request("/api/v1/quotas/orgs/acme/overrides/apps", {
    method: "PUT",
    cookie: admin,
    json: { value: 3 },
  });
  assert.equal(r.status, 400);
  assert.ok((await r.json()).error.fields.reason);
  r = await t.request("/api/v1/quotas/defaults", {
    method: "PUT",
    cookie: admin,
    json: { cpu_millis: 1000, apps: 50 },
  });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { cpu_millis: 1000, apps: 50 });
  r = await t.request("/api/v1/quotas/orgs/acme/overrides/apps", {
    method: "PUT",
    cookie: admin,
    json: { value: 3, reason: "trial org", expires_at: Date.now() + 86_400_000 },
  });
  assert.equal(r.status, 200);
  await r.body?.cancel();

  // Six creates at once race for three apps' room: three are saved, three answer 409.
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      t.request("/api/v1/orgs/acme/apps", {
        method: "POST",
        cookie: member,
        json: { name: `app${i}`, spec: web(0.25), deploy: false },
      })),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409]);
  const refused = answers.find((a) => a.status === 409)!;
  const body = await refused.json();
  assert.equal(body.error.code, "quota_exceeded");
  assert.deepEqual(body.error.quota, {
    resource: "apps",
    unit: "apps",
    limit: 3,
    used: 3,
    requested: 1,
  });
  assert.match(body.error.message, /apps is limited to 3 apps/);
  const saved = await answers.find((a) => a.status === 201)!.json();
  for (const a of answers) await a.body?.cancel().catch(() => {});

  // CPU: the default (1000 millicores) with 750 used leaves no room for 0.5 more.
  r = await t.request(`/api/v1/orgs/acme/apps/${saved.app.name}`, {
    method: "PATCH",
    cookie: member,
    json: { spec: web(0.75) },
  });
  assert.equal(r.status, 409);
  assert.deepEqual((await r.json()).error.quota, {
    resource: "cpu_millis",
    unit: "millicores",
    limit: 1000,
    used: 750,
    requested: 500,
  });

  // The org's view: limits in force, their source, and the use now; viewers of others get 404.
  r = await t.request("/api/v1/orgs/acme/quotas", { cookie: member });
  assert.equal(r.status, 200);
  const view = await r.json();
  const line = (k: string) => view.items.find((l: { resource: string }) => l.resource === k);
  assert.deepEqual([line("apps").limit, line("apps").source, line("apps").used], [
    3,
    "override",
    3,
  ]);
  assert.deepEqual([line("cpu_millis").limit, line("cpu_millis").used], [1000, 750]);
  // Storage and egress are measured by billing's facts (none recorded here: 0).
  assert.equal(line("egress_gb_month").used, 0);
  assert.equal(line("storage_bytes").used, 0);
  assert.equal(view.blocked, null);

  // Clearing the override puts the default (50 apps) back in force.
  r = await t.request("/api/v1/quotas/orgs/acme/overrides/apps", {
    method: "DELETE",
    cookie: admin,
  });
  assert.equal(r.status, 204);
  r = await t.request("/api/v1/orgs/acme/apps", {
    method: "POST",
    cookie: member,
    json: { name: "app9", spec: web(0.25), deploy: false },
  });
  assert.equal(r.status, 201);
  await r.body?.cancel();
  // The OpenAPI document has the routes and the 409 body's shape.
  const doc = await (await t.request("/api/v1/openapi.json")).json();
  for (
    const p of [
      "/api/v1/orgs/{org}/quotas",
      "/api/v1/quotas/defaults",
      "/api/v1/quotas/orgs/{org}/overrides/{resource}",
    ]
  ) assert.ok(doc.paths[p], `documents ${p}`);
  assert.deepEqual(
    Object.keys(doc.components.schemas.QuotaExceeded.properties.error.properties.quota.properties),
    ["resource", "unit", "limit", "used", "requested"],
  );
  const audit = await h.db.selectFrom("audit_log").select("action")
    .where("action", "like", "quota.%").execute();
  assert.deepEqual(audit.map((a) => a.action).sort(), [
    "quota.defaults_set",
    "quota.override_cleared",
    "quota.override_set",
  ]);
});

dbTest(
  "[e2e] quotas API: a template deploy over the quota answers 409 before it starts",
  async (h) => {
    const t = testApp(h);
    const admin = (await t.user("root@capstan.io", { admin: true })).cookie;
    const owner = (await t.user("o@acme.io", { org: "acme", role: "owner" })).cookie;
    let r = await t.request("/api/v1/orgs/acme/templates", {
      method: "POST",
      cookie: owner,
      json: {
        source: [
          "id: pair",
          "name: Pair",
          "description: Two replicas.",
          "category: web",
          "version: 1.0.0",
          "services:",
          "  web:",
          "    image: capstan-test/busybox:latest",
          "    replicas: 4",
        ].join("\n") + "\n",
      },
    });
    assert.equal(r.status, 201, await r.clone().text());
    await r.body?.cancel();
    r = await t.request("/api/v1/quotas/orgs/acme/overrides/replicas_per_service", {
      method: "PUT",
      cookie: admin,
      json: { value: 3, reason: "small org" },
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    r = await t.request("/api/v1/orgs/acme/templates/pair/deploy", {
      method: "POST",
      cookie: owner,
      json: { name: "pair1" },
    });
    assert.equal(r.status, 409);
    const body = await r.json();
    assert.equal(body.error.code, "quota_exceeded");
    assert.deepEqual(body.error.quota, {
      resource: "replicas_per_service",
      unit: "replicas",
      limit: 3,
      used: 0,
      requested: 4,
    });
    // Nothing was started: no provisioning, no app.
    assert.equal((await h.db.selectFrom("template_provisions").select("id").execute()).length, 0);
    assert.equal((await h.db.selectFrom("apps").select("id").execute()).length, 0);
  },
);

dbTest(
  "[e2e] quotas API: per resource the level, since, grace end and block; the admin's view",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 12));
    const t = testApp(h, clock, undefined, { CAPSTAN_QUOTA_GRACE_HOURS: "2" });
    const admin = (await t.user("root@capstan.io", { admin: true })).cookie;
    const member = (await t.user("m@acme.io", { org: "acme", role: "member" })).cookie;
    const s = t.services;
    const org = (await s.orgs.bySlug("acme"))!.id;
    for (const name of ["a", "b"]) {
      const r = await t.request("/api/v1/orgs/acme/apps", {
        method: "POST",
        cookie: member,
        json: { name, spec: web(0.1), deploy: false },
      });
      assert.equal(r.status, 201);
      await r.body?.cancel();
    }
    const line = async (cookie: string, path: string, resource: string) => {
      const r = await t.request(path, { cookie });
      assert.equal(r.status, 200);
      const body = await r.json();
      return body.items.find((i: { resource: string }) => i.resource === resource);
    };
    // Never measured: ok, no since, no grace.
    let l = await line(member, "/api/v1/orgs/acme/quotas", "cpu_millis");
    assert.deepEqual([l.level, l.since, l.grace_ends_at, l.blocked], ["ok", null, null, false]);

    // 200 millicores reserved, limit lowered to 150: over, grace 2 h.
    await s.quotas.setOverride(SYSTEM_CTX, org, "cpu_millis", { value: 150, reason: "test" });
    await s.quotaWatch.checkAll();
    const since = clock.now();
    l = await line(member, "/api/v1/orgs/acme/quotas", "cpu_millis");
    assert.deepEqual(
      [l.used, l.limit, l.level, l.since, l.grace_ends_at, l.blocked],
      [200, 150, "over", since, since + 2 * 3_600_000, false],
    );
    // Grace over: blocked at once (before the job writes it), in both views.
    clock.advance(2 * 3_600_000);
    l = await line(member, "/api/v1/orgs/acme/quotas", "cpu_millis");
    assert.equal(l.blocked, true);
    l = await line(admin, "/api/v1/quotas/orgs/acme", "cpu_millis");
    assert.deepEqual([l.level, l.blocked], ["over", true]);
    // Members cannot use the admin's endpoint; an unknown org is a 404.
    let r = await t.request("/api/v1/quotas/orgs/acme", { cookie: member });
    assert.equal(r.status, 403);
    await r.body?.cancel();
    r = await t.request("/api/v1/quotas/orgs/nope", { cookie: admin });
    assert.equal(r.status, 404);
    await r.body?.cancel();
    // In the OpenAPI document.
    r = await t.request("/api/v1/openapi.json", { cookie: admin });
    const doc = await r.json();
    assert.ok(doc.paths["/api/v1/quotas/orgs/{org}"]?.get);
    assert.ok(doc.components.schemas.QuotaLine.properties.grace_ends_at);
  },
);
