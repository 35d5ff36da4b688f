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
