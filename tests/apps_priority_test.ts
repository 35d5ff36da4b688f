/**
 * An app's priority (both dialects): set on create and changed through the API (zod-checked,
 * the field named on a 400), changed on the edit form (a bad value named on the field), shown on
 * the app page. Apps are saved with `deploy: false`: no Swarm needed.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { inputValue } from "./support/html.ts";

dbTest("[e2e] app priority: API create/patch with validation, edit form, app page", async (h) => {
  const t = testApp(h);
  const { cookie } = await t.user("m@acme.io", { org: "acme", role: "member" });
  const spec = { services: [{ name: "web", image: "capstan-test/busybox:latest" }] };
  let r = await t.request("/api/v1/orgs/acme/apps", {
    method: "POST",
    cookie,
    json: { name: "shop", spec, priority: 7, deploy: false },
  });
  assert.equal(r.status, 201);
  assert.equal((await r.json()).app.priority, 7);
  r = await t.request("/api/v1/orgs/acme/apps", {
    method: "POST",
    cookie,
    json: { name: "plain", spec, deploy: false },
  });
  assert.equal((await r.json()).app.priority, 0, "default 0");

  for (const bad of [1.5, 1001, "high"]) {
    r = await t.request("/api/v1/orgs/acme/apps/shop", {
      method: "PATCH",
      cookie,
      json: { priority: bad },
    });
    assert.equal(r.status, 400, String(bad));
    const body = await r.json();
    assert.ok(JSON.stringify(body.error).includes("priority"), JSON.stringify(body));
  }
  r = await t.request("/api/v1/orgs/acme/apps/shop", {
    method: "PATCH",
    cookie,
    json: { priority: -3 },
  });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).priority, -3);

  // The edit form shows it and saves a change; a bad value is named on the field.
  r = await t.request("/o/acme/apps/shop/edit", { cookie });
  let html = await r.text();
  assert.equal(inputValue(html, "priority"), "-3");
  const form = {
    edit_service: "web",
    service: "web",
    image: "capstan-test/busybox:latest",
    replicas: "1",
    port_mode: "host",
    health_interval_s: "10",
    then: "save",
  };
  r = await t.request("/o/acme/apps/shop/edit", {
    method: "POST",
    cookie,
    body: new URLSearchParams({ ...form, priority: "abc" }),
  });
  assert.equal(r.status, 400);
  html = await r.text();
  assert.match(html, /whole number from -1000 to 1000/);
  r = await t.request("/o/acme/apps/shop/edit", {
    method: "POST",
    cookie,
    body: new URLSearchParams({ ...form, priority: "12" }),
  });
  assert.equal(r.status, 303);
  await r.body?.cancel();
  const org = (await t.services.orgs.bySlug("acme"))!;
  assert.equal((await t.services.apps.store.get(org.id, "shop")).priority, 12);
  r = await t.request("/o/acme/apps/shop", { cookie });
  assert.match(await r.text(), /priority 12/);
  const audit = await h.db.selectFrom("audit_log").select("metadata")
    .where("action", "=", "app.updated").execute();
  assert.ok(audit.some((a) => JSON.parse(String(a.metadata)).priority === 12), "audited");
});
