/**
 * The platform admins' consumption overview (both dialects): every organization with its use of
 * each limit (%, level, grace), wallet balance and this month's charges (through the billing
 * service), highest percentage first, 50 a page — the page and GET /api/v1/quotas/overview;
 * members get 403.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { AppSpec } from "../lib/apps/spec.ts";

dbTest(
  "[e2e] consumption overview: sorted by the highest %, paginated, wallet and month",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 2, 15, 12));
    const t = testApp(h, clock, undefined, { CAPSTAN_QUOTA_GRACE_HOURS: "10" });
    const admin = (await t.user("root@capstan.io", { admin: true })).cookie;
    const member = (await t.user("m@acme.io", { org: "acme", role: "member" })).cookie;
    const s = t.services;
    // 55 orgs besides acme; "o-07" uses 3 of 2 apps (over), acme 1 of 2 (50 %).
    const orgs: string[] = [];
    for (let i = 0; i < 55; i++) {
      orgs.push(
        (await s.orgs.create(SYSTEM_CTX, {
          slug: `o-${String(i).padStart(2, "0")}`,
          name: `Org ${i}`,
        })).id,
      );
    }
    const acme = (await s.orgs.bySlug("acme"))!.id;
    const app = async (org: string, name: string) =>
      await s.apps.store.create(org, {
        name,
        spec: AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:latest" }] }),
      }, null);
    for (const n of ["a", "b", "c"]) await app(orgs[7], n);
    await app(acme, "a");
    await s.quotas.setDefaults(SYSTEM_CTX, { apps: 2 });
    await s.quotaWatch.checkAll();
    await s.billingPlans.set("default", {
      currency: "EUR",
      cpu_core_hour: 100,
      memory_gib_hour: 0,
      storage_gib_month: 0,
      egress_gib: 0,
      build_minute: 0,
    }, null);
    await s.billing.move(SYSTEM_CTX, acme, { kind: "top_up", amount: 1234, note: "start" });

    let r = await t.request("/api/v1/quotas/overview", { cookie: admin });
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.total, 56);
    assert.equal(body.items.length, 50);
    assert.deepEqual(body.items.slice(0, 2).map((i: { org: { slug: string } }) => i.org.slug), [
      "o-07",
      "acme",
    ]);
    const top = body.items[0];
    assert.equal(top.max_pct, 150);
    assert.deepEqual(
      top.resources.find((x: { resource: string }) => x.resource === "apps"),
      {
        resource: "apps",
        label: "Apps",
        used: 3,
        limit: 2,
        pct: 150,
        level: "over",
        grace_ends_at: clock.now() + 10 * 3_600_000,
        blocked: false,
      },
    );
    assert.deepEqual(body.items[1].wallet, {
      balance: 1234,
      currency: "EUR",
      state: "ok",
      ends_at: null,
    });
    assert.equal(body.items[1].month_charges, 0);
    r = await t.request("/api/v1/quotas/overview?offset=50", { cookie: admin });
    assert.equal((await r.json()).items.length, 6);

    // The page: same order, a next link; the second page has a previous link.
    r = await t.request("/admin/quotas/usage", { cookie: admin });
    assert.equal(r.status, 200);
    let html = await r.text();
    assert.ok(html.indexOf('data-org="o-07"') < html.indexOf('data-org="acme"'));
    assert.match(html, /3 apps of 2 apps \(150 %\)/);
    assert.match(html, /12\.34/);
    assert.match(html, /href="\/admin\/quotas\/usage\?offset=50"/);
    r = await t.request("/admin/quotas/usage?offset=50", { cookie: admin });
    html = await r.text();
    assert.match(html, /51–56 of 56/);
    assert.match(html, /← Previous/);

    // Members: neither.
    for (const path of ["/api/v1/quotas/overview", "/admin/quotas/usage"]) {
      r = await t.request(path, { cookie: member });
      assert.equal(r.status, 403, path);
      await r.body?.cancel();
    }
  },
);
