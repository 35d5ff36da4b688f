/**
 * Quota crossings reach the organization's channels through the alert engine (both dialects): the
 * default rules "Quota at 80 %" (warning) and "Quota at 90 %, full or exceeded" (critical) send
 * one signed webhook message per crossing, none for a figure hovering at a threshold, and the
 * block at the end of a violation's grace period.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { loopbackAlertsEnv, startReceiver } from "./support/receivers.ts";
import { AppSpec } from "../lib/apps/spec.ts";

const HOOK_SECRET = "webhook-signing-secret-quotas";

dbTest(
  "[e2e] quota crossings: one webhook message each, by severity, through the default rules",
  async (h) => {
    const clock = manualClock(Date.now());
    const t = testApp(h, clock, undefined, {
      ...loopbackAlertsEnv(),
      CAPSTAN_QUOTA_GRACE_HOURS: "1",
    });
    const s = t.services;
    await t.user("ann@acme.io", { org: "acme", role: "admin" });
    const org = (await s.orgs.bySlug("acme"))!.id;
    const rx = startReceiver({ secret: HOOK_SECRET });
    try {
      await s.alerts.channels.create(SYSTEM_CTX, org, {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: HOOK_SECRET },
      });
      for (let i = 0; i < 9; i++) {
        await s.apps.store.create(
          org,
          {
            name: `app-${i}`,
            spec: AppSpec.parse({
              services: [{ name: "web", image: "capstan-test/busybox:latest" }],
            }),
          },
          null,
          await s.quotaAdmission.prepare(org),
        );
      }
      const step = async (apps: number) => {
        await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: apps, reason: "test" });
        clock.advance(30_000);
        await s.quotaWatch.checkAll();
        await s.alerts.idle();
      };
      await step(11); // 81 %
      await step(12); // 75 %: still a warning (it clears under 75 %)
      await step(11); // 81 % again: not told again
      await step(10); // 90 %
      await step(9); // 100 %
      await step(8); // over: grace starts
      clock.advance(3_600_000);
      await s.quotaWatch.checkAll(); // grace over: blocked
      await s.alerts.idle();
      await step(20); // 45 %: the violation ends, back to ok
      const got = rx.got.map((g) => `${g.json.rule} | ${g.json.title}`);
      assert.deepEqual(got, [
        "Quota at 80 % | Quota at 80 %: Apps",
        "Quota at 90 %, full or exceeded | Quota at 90 %: Apps",
        "Quota at 90 %, full or exceeded | Quota full: Apps",
        "Quota at 90 %, full or exceeded | Quota exceeded: Apps",
        "Quota at 90 %, full or exceeded | Quota exceeded: new deploys blocked (Apps)",
        "Quota at 90 %, full or exceeded | Quota back under 75 %: Apps",
      ]);
      assert.ok(rx.got.every((g) => g.verified && g.json.org === "acme"));
      assert.match(
        String(rx.got[3].json.detail),
        /Apps: 9 apps of 8 apps \(112 %\)\. New deploys are blocked at/,
      );
    } finally {
      await rx.close();
    }
  },
);
