/**
 * The org's quota page shows what the 30 s job stored (lib/quotas/watch.ts): the level reached
 * and since when, and a violation's grace period with the time left, then that deploys are
 * blocked (both dialects, a hand-moved clock).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { AppSpec } from "../lib/apps/spec.ts";

dbTest("[e2e] quota page: level since, grace period left, then deploys blocked", async (h) => {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const t = testApp(h, clock, undefined, { CAPSTAN_QUOTA_GRACE_HOURS: "2" });
  const member = (await t.user("m@acme.io", { org: "acme", role: "member" })).cookie;
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!.id;
  for (const name of ["one", "two", "three", "four"]) {
    await s.apps.store.create(
      org,
      {
        name,
        spec: AppSpec.parse({
          services: [{ name: "web", image: "capstan-test/busybox:latest", replicas: 1 }],
        }),
      },
      null,
      await s.quotaAdmission.prepare(org),
    );
  }
  const page = async () => {
    const r = await t.request("/o/acme/quotas", { cookie: member });
    assert.equal(r.status, 200);
    const html = await r.text();
    const i = html.indexOf('data-quota="apps"');
    assert.ok(i > 0, "the apps bar is there");
    return html.slice(i, html.indexOf("</li>", i)).replace(/<[^>]+>/g, "").replace(/\s+/g, " ");
  };

  await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 5, reason: "trial" });
  await s.quotaWatch.check(org); // 80 %
  assert.match(await page(), /80 % reached since 2026-01-01 00:00 UTC/);

  await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 3, reason: "downgrade" });
  clock.advance(60_000);
  await s.quotaWatch.check(org); // 4 of 3: over, 2 h of grace
  clock.advance(30 * 60_000);
  const over = await page();
  assert.match(over, /over the limit since 2026-01-01 00:01 UTC/);
  assert.match(over, /grace period: 1 h 30 min left, then new deploys are blocked/);

  clock.advance(90 * 60_000);
  const blocked = await t.request("/o/acme/quotas", { cookie: member }).then((r) => r.text());
  assert.match(blocked, /Deploys are blocked: Apps uses 4 apps, above its limit of 3 apps/);
  assert.match(await page(), /grace period ended 2026-01-01 02:01 UTC: new deploys are blocked/);
});

dbTest(
  "[e2e] grace banner on the org's pages (quota and wallet, no JavaScript needed); quota history",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 10, 12));
    const t = testApp(h, clock, undefined, {
      CAPSTAN_QUOTA_GRACE_HOURS: "72",
      CAPSTAN_BILLING_GRACE_HOURS: "24",
      CAPSTAN_QUOTA_VIOLATION_ACTION: "stop_lowest_priority",
    });
    const member = (await t.user("m@acme.io", { org: "acme", role: "member" })).cookie;
    const s = t.services;
    const org = (await s.orgs.bySlug("acme"))!.id;
    const text = async (path: string) => {
      const r = await t.request(path, { cookie: member });
      assert.equal(r.status, 200, path);
      return (await r.text()).replace(/<[^>]+>/g, "").replace(/\s+/g, " ");
    };
    // Nothing in grace: no banner; the quota page's history is empty.
    for (const p of ["/o/acme/apps", "/o/acme/quotas", "/o/acme/billing"]) {
      assert.doesNotMatch(await text(p), /Quota exceeded|wallet is below zero/, p);
    }
    assert.match(await text("/o/acme/quotas"), /No history yet/);

    for (const name of ["one", "two", "three"]) {
      await s.apps.store.create(
        org,
        {
          name,
          spec: AppSpec.parse({
            services: [{ name: "web", image: "capstan-test/busybox:latest", replicas: 1 }],
          }),
        },
        null,
        await s.quotaAdmission.prepare(org),
      );
    }
    await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 2, reason: "test" });
    await s.quotaWatch.checkAll();
    clock.advance(90 * 60_000); // 70 h 30 min left
    for (const p of ["/o/acme/apps", "/o/acme/quotas", "/o/acme/billing"]) {
      const got = await text(p);
      const i = got.indexOf("Quota exceeded");
      assert.match(
        got.slice(i, i + 200),
        /Quota exceeded: Apps uses 3 apps of 2 apps\. New deploys are blocked and the lowest-priority apps stopped in 2 d 22 h \(at/,
        `${p}: ${got.slice(i, i + 200)}`,
      );
    }
    // The history shows the hour recorded, as an SVG bar.
    const r = await t.request("/o/acme/quotas", { cookie: member });
    const html = await r.text();
    assert.match(
      html,
      /<svg class="quota-spark"[^>]*aria-label="Apps, last 30 days: at most 3 apps of 2 apps"/,
    );
    assert.match(html, /data-history="apps"/);

    // Grace over: blocked.
    clock.advance(71 * 3_600_000);
    assert.match(
      await text("/o/acme/apps"),
      /Quota exceeded, grace period over: Apps uses 3 apps of 2 apps/,
    );

    // The wallet below zero: its grace period too, on the apps list.
    await s.billingPlans.set("default", {
      currency: "EUR",
      cpu_core_hour: 100,
      memory_gib_hour: 0,
      storage_gib_month: 0,
      egress_gib: 0,
      build_minute: 0,
    }, null);
    await s.billing.move(SYSTEM_CTX, org, { kind: "adjustment", amount: -50, note: "debt" });
    await s.billingWallet.checkAll();
    clock.advance(60 * 60_000);
    assert.match(
      await text("/o/acme/apps"),
      /The wallet is below zero: new deploys are blocked in 23 h 0 min \(at/,
    );
  },
);
