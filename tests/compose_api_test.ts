/**
 * Compose import through the API on both dialects: a real-world-shaped file converts (notes,
 * no problems) and becomes an app (volumes prefixed with the app's name, not deployed here);
 * a file with `build:` and `privileged:` answers every problem with its line before anything
 * is made; an admin saves a file as an organization template that then renders and is listed.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";

const corpus = (name: string) =>
  Deno.readTextFileSync(new URL(`../lib/compose/testdata/corpus/${name}.yml`, import.meta.url));

dbTest("compose API: convert, refuse by line, import as an app, save as a template", async (h) => {
  const t = testApp(h);
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const as = async (cookie: string, path: string, json: unknown) => {
    const res = await t.request(`/api/v1/orgs/acme/compose${path}`, {
      method: "POST",
      cookie,
      json,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const shop = corpus("node_web_worker_redis");

  assert.equal((await as(viewer.cookie, "/convert", { source: shop })).status, 403);
  let r = await as(member.cookie, "/convert", { source: shop });
  assert.equal(r.status, 200);
  assert.equal(r.body.ok, true, JSON.stringify(r.body.problems));
  assert.deepEqual(r.body.spec.services.map((s: { name: string }) => s.name), [
    "web",
    "worker",
    "redis",
  ]);

  const refused = `services:
  web:
    build: .
    image: x
  worker:
    image: busybox
    privileged: true
`;
  r = await as(member.cookie, "/convert", { source: refused });
  assert.equal(r.body.ok, false);
  assert.deepEqual(
    r.body.problems.map((p: { path: string; line: number }) => `${p.line} ${p.path}`),
    ["3 services.web.build", "7 services.worker.privileged"],
  );
  r = await as(member.cookie, "/import", { source: refused, name: "nope", deploy: false });
  assert.equal(r.status, 400);
  assert.deepEqual(Object.keys(r.body.error.fields), ["source:3:5", "source:7:5"]);
  assert.equal(
    (await t.request("/api/v1/orgs/acme/apps/nope", { cookie: member.cookie })).status,
    404,
  );

  r = await as(member.cookie, "/import", { source: shop, name: "shop", deploy: false });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const org = (await t.services.orgs.bySlug("acme"))!;
  const app = await t.services.apps.store.get(org.id, "shop");
  assert.deepEqual(app.spec.services[2].volumes.map((v) => v.name), ["shop_redis-data"]);
  assert.deepEqual(app.spec.services[1].depends_on, ["redis"]);

  // Save as a template (admins): it lists, renders and keeps its services' order.
  assert.equal(
    (await as(member.cookie, "/template", { source: shop, id: "shop", name: "Shop" })).status,
    403,
  );
  r = await as(admin.cookie, "/template", { source: shop, id: "shop", name: "Shop" });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.yaml, /redis-data:\/data/);
  const got = await t.request("/api/v1/orgs/acme/templates/shop", { cookie: member.cookie });
  const tpl = await got.json();
  assert.equal(tpl.source, "org");
  assert.deepEqual(Object.keys(tpl.template.services), ["web", "worker", "redis"]);
  assert.deepEqual(tpl.template.routes, [{ service: "web", path: "/" }]);
});
