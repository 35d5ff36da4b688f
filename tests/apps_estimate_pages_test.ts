/**
 * The cost estimate on the new-app form through the whole app (no JavaScript), on both dialects:
 * nothing at all while the install has no price plan; with one, the blank form says unreserved
 * resources are not billed, "Preview cost" re-renders the form with "≈ X per hour · Y per month"
 * for replicas × reservations (priced by the billing service's meter) and every typed value kept,
 * creating nothing; a value that is not a number gives no figure. The app page's scale form
 * prices the whole app with the replicas typed (its no-JS preview is a GET back to the page); the
 * edit form prices the app with the edited service as typed; the template deploy form prices the
 * template's services.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { inputValue, textareaValue } from "./support/html.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { SYSTEM_CTX } from "./support/services.ts";

/** A template whose services reserve CPU and memory. */
const TEMPLATE = `id: priced
name: Priced
category: web
version: 1.0.0
services:
  db:
    image: postgres:16
    resources: { reservations: { memory: 256M } }
  web:
    image: shop:1
    replicas: 2
    resources: { reservations: { cpus: "0.5", memory: 512M } }
`;

dbTest(
  "[e2e] cost estimates: new-app form (preview keeps input), scale form, template deploy form, none when free",
  async (h) => {
    const t = testApp(h);
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const s = t.services;
    const org = (await s.orgs.bySlug("acme"))!;
    const get = async (path: string) => {
      const res = await t.request(path, { cookie: member.cookie });
      return { status: res.status, html: await res.text() };
    };
    const post = async (path: string, fields: Record<string, string>) => {
      const res = await t.request(path, {
        method: "POST",
        body: new URLSearchParams(fields),
        cookie: member.cookie,
      });
      return { status: res.status, html: await res.text() };
    };
    const typed = {
      name: "shop",
      service: "web",
      image: "nginx:1.27",
      env: "LOG_LEVEL=info\nPORT=80",
      replicas: "2",
      cpu_reservation: "0.5",
      memory_reservation_mib: "512",
      port_mode: "host",
      health_interval_s: "10",
      then: "preview",
    };

    // No plan: billing is free, the form says nothing about cost and offers no preview.
    let r = await get("/o/acme/apps/new");
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.html, /Estimated cost|Preview cost|not billed/);

    await s.billingPlans.set("default", {
      currency: "EUR",
      cpu_core_hour: 100,
      memory_gib_hour: 10,
      storage_gib_month: 0,
      egress_gib: 0,
      build_minute: 0,
    }, null);

    // The blank form reserves nothing.
    r = await get("/o/acme/apps/new");
    assert.match(r.html, /Estimated cost:/);
    assert.match(r.html, /unreserved resources are not billed/);
    assert.match(r.html, /name="then" value="preview"/);

    // 2 × (0.5 core at 1.00 EUR/core-hour + 0.5 GiB at 0.10 EUR/GiB-hour) = 1.10 EUR an hour,
    // 730 h a month = 803.00 EUR; nothing created, everything typed still there.
    r = await post("/o/acme/apps/new", typed);
    assert.equal(r.status, 200, r.html);
    assert.match(r.html, /≈ 1\.10 EUR per hour · 803\.00 EUR per month/);
    assert.equal(inputValue(r.html, "name"), "shop");
    assert.equal(inputValue(r.html, "image"), "nginx:1.27");
    assert.equal(inputValue(r.html, "replicas"), "2");
    assert.equal(inputValue(r.html, "cpu_reservation"), "0.5");
    assert.equal(inputValue(r.html, "memory_reservation_mib"), "512");
    assert.equal(textareaValue(r.html, "env"), "LOG_LEVEL=info\nPORT=80");
    assert.equal((await s.apps.store.list(org.id)).total, 0);

    // The same figure as the estimate endpoint, which prices it (one source of truth).
    const api = await t.request("/api/v1/orgs/acme/billing/estimate", {
      method: "POST",
      cookie: member.cookie,
      json: { services: [{ replicas: 2, cpus: 0.5, memory_bytes: 512 * 2 ** 20 }] },
    });
    assert.deepEqual(await api.json(), {
      currency: "EUR",
      per_hour: 110,
      per_day: 2640,
      per_month: 80300,
    });

    // A replica count that is not a number: no figure, the form's own message on create.
    r = await post("/o/acme/apps/new", { ...typed, replicas: "two" });
    assert.equal(r.status, 200);
    assert.match(r.html, /Enter replicas and reservations as numbers/);
    assert.equal(inputValue(r.html, "replicas"), "two");

    // The scale form prices the whole app with the replicas typed: its saved 2 first, then the 4
    // a "Preview cost" (a GET back to the page) brings.
    await s.apps.store.create(org.id, {
      name: "shop",
      spec: AppSpec.parse({
        services: [{
          name: "web",
          image: "nginx:1.27",
          replicas: 2,
          resources: { reservations: { cpus: 0.5, memory_bytes: 512 * 2 ** 20 } },
        }],
      }),
    }, null);
    r = await get("/o/acme/apps/shop");
    assert.equal(r.status, 200);
    assert.match(r.html, /≈ 1\.10 EUR per hour · 803\.00 EUR per month/);
    assert.match(r.html, /formmethod="get"/);
    r = await get("/o/acme/apps/shop?service=web&replicas=4");
    assert.match(r.html, /≈ 2\.20 EUR per hour · 1\u202f606\.00 EUR per month/);
    assert.equal(inputValue(r.html, "replicas"), "4");

    // The edit form prices the whole app with the service as typed: as saved first, then the 4
    // replicas a "Preview cost" brings, nothing saved.
    r = await get("/o/acme/apps/shop/edit");
    assert.equal(r.status, 200);
    assert.match(r.html, /≈ 1\.10 EUR per hour · 803\.00 EUR per month/);
    assert.match(r.html, /name="then" value="preview"/);
    const edited = {
      edit_service: "web",
      service: "web",
      image: "nginx:1.27",
      replicas: "4",
      cpu_reservation: "0.5",
      memory_reservation_mib: "512",
      port_mode: "host",
      health_interval_s: "10",
      priority: "0",
      then: "preview",
    };
    r = await post("/o/acme/apps/shop/edit", edited);
    assert.equal(r.status, 200, r.html);
    assert.match(r.html, /≈ 2\.20 EUR per hour · 1\u202f606\.00 EUR per month/);
    assert.equal(inputValue(r.html, "replicas"), "4");
    assert.equal((await s.apps.store.get(org.id, "shop")).spec.services[0].replicas, 2);

    // The template deploy form prices the template's own services (its variables do not change
    // them): web 2 × (0.5 core + 512M) and db 1 × 256M = 1.10 + 0.03 (0.025 rounded half up).
    const caller = { ctx: SYSTEM_CTX, orgId: org.id, role: "owner" as const, platformAdmin: false };
    await s.templates.save(caller, TEMPLATE);
    r = await get("/o/acme/templates/priced");
    assert.equal(r.status, 200);
    assert.match(r.html, /≈ 1\.13 EUR per hour · 821\.25 EUR per month/);

    // An org whose own plan prices neither CPU nor memory is free: nothing shown again.
    await s.billingPlans.set(org.id, {
      currency: "EUR",
      cpu_core_hour: 0,
      memory_gib_hour: 0,
      storage_gib_month: 5,
      egress_gib: 0,
      build_minute: 0,
    }, null);
    r = await post("/o/acme/apps/new", typed);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.html, /Estimated cost|Preview cost/);
    r = await get("/o/acme/apps/shop");
    assert.doesNotMatch(r.html, /Estimated cost|Preview cost/);
    r = await get("/o/acme/templates/priced");
    assert.doesNotMatch(r.html, /Estimated cost/);
  },
);
