/**
 * Issue 18's notifications, on both dialects: what the builds module tells the bus about a build
 * from Git and its deployment (`builds.notice`) and about a webhook disabled after bad signatures
 * (`builds.webhook_disabled`) reaches the organization's channels — here a signed webhook — and
 * its notification center, through the real alerts service and its default rules. Each stage of
 * each build is told once; another organization hears nothing.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { loopbackAlertsEnv, type Received, startReceiver } from "./support/receivers.ts";
import type { BuildNotice } from "../lib/builds/events.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const HOOK_SECRET = "webhook-signing-secret-builds";
const BUILD_RULE = "App builds and deployments from Git";
const WEBHOOK_RULE = "App Git webhook disabled after bad signatures";
const COMMIT = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";

/** A receiver with a signed webhook channel in each of two organizations. */
async function setup(h: DbHandle) {
  const t = testApp(h, undefined, undefined, loopbackAlertsEnv());
  const s = t.services;
  const admin = await t.user("ann@acme.io", { org: "acme", role: "admin" });
  await t.user("bob@beta.io", { org: "beta", role: "admin" });
  const org = (await s.orgs.bySlug("acme"))!;
  const beta = (await s.orgs.bySlug("beta"))!;
  const rx = startReceiver({ secret: HOOK_SECRET });
  const betaRx = startReceiver({ secret: HOOK_SECRET });
  for (const [o, r] of [[org, rx], [beta, betaRx]] as const) {
    await s.alerts.channels.create(SYSTEM_CTX, o.id, {
      name: "ops",
      kind: "webhook",
      config: { url: `${r.url}/hook`, secret: HOOK_SECRET },
    });
  }
  return { t, s, admin, org, beta, rx, betaRx };
}

/** A notice of build `number` of shop's web service. */
const notice = (
  orgId: string,
  number: number,
  stage: BuildNotice["stage"],
  detail: string,
  more: Partial<BuildNotice> = {},
): BuildNotice => ({
  org_id: orgId,
  app: { id: "app-shop", name: "shop" },
  build: { id: `build-${number}`, number, service: "web", branch: "main", commit: COMMIT },
  stage,
  detail,
  ...more,
});

/** The titles received (deliveries may arrive in any order). */
const titles = (got: Received[]) => got.map((g) => String(g.json.title)).sort();
/** The message received with `title`. */
const byTitle = (got: Received[], title: string) => {
  const m = got.find((g) => g.json.title === title);
  assert.ok(m, `no message "${title}" among ${titles(got).join(" | ")}`);
  return m;
};

dbTest(
  "[e2e] build notifications: each stage of a build and its deployment, and a disabled webhook, reach a signed webhook and the notification center once",
  async (h) => {
    const { t, s, admin, org, beta, rx, betaRx } = await setup(h);
    try {
      // Build #12 builds, deploys as deployment #7 and is rolled back; build #13 fails.
      const told: BuildNotice[] = [
        notice(org.id, 12, "build_started", "Building web from main."),
        notice(org.id, 12, "build_succeeded", "Built in 42 s."),
        notice(org.id, 12, "deploy_started", "Deploying build #12.", { deployment_number: 7 }),
        notice(org.id, 12, "deploy_rolled_back", "The new version failed its health check.", {
          deployment_number: 7,
        }),
        notice(org.id, 13, "build_failed", "Installing dependencies failed.", {
          failure: "dependency_install",
        }),
      ];
      for (const n of told) s.events.emit("builds.notice", n);
      // Heard twice: not told twice.
      s.events.emit("builds.notice", told[4]);
      s.events.emit("builds.notice", told[3]);
      await s.alerts.idle();
      assert.deepEqual(
        titles(rx.got),
        [
          "App shop: build #12 of web started",
          "App shop: build #12 of web succeeded",
          "App shop: deployment #7 from build #12 started",
          "App shop: deployment #7 from build #12 rolled back (health check failed)",
          "App shop: build #13 of web failed (dependency install)",
        ].sort(),
      );
      for (const m of rx.got) {
        assert.ok(m.verified, "HMAC signature verified by the receiver");
        assert.equal(m.json.event, "firing");
        assert.equal(m.json.rule, BUILD_RULE);
        assert.equal(m.json.org, "acme");
        assert.equal(m.json.severity, "warning");
        assert.equal(m.json.host, null);
      }
      const rolledBack = byTitle(
        rx.got,
        "App shop: deployment #7 from build #12 rolled back (health check failed)",
      );
      assert.equal(rolledBack.json.value, 12);
      assert.equal(
        rolledBack.json.detail,
        "The new version failed its health check (branch main, commit 9f8e7d6)",
      );
      const failed = byTitle(rx.got, "App shop: build #13 of web failed (dependency install)");
      assert.equal(failed.json.value, 13);
      assert.equal(
        failed.json.detail,
        "Installing dependencies failed (branch main, commit 9f8e7d6)",
      );

      // The webhook disabled after bad signatures: told once, by its own rule.
      const since = Date.now();
      const disabled = {
        org_id: org.id,
        app: { id: "app-shop", name: "shop" },
        since,
        until: since + 5 * 60_000,
        bad_signatures: 10,
      };
      s.events.emit("builds.webhook_disabled", disabled);
      s.events.emit("builds.webhook_disabled", disabled);
      await s.alerts.idle();
      assert.equal(rx.got.length, 6);
      const hook = byTitle(
        rx.got,
        "Webhook of app shop disabled for 5 minutes after 10 bad signatures",
      );
      assert.ok(hook.verified);
      assert.equal(hook.json.rule, WEBHOOK_RULE);
      assert.match(String(hook.json.detail), /^10 webhook requests for shop had a signature/);

      // The notification center: every message is an alert (instant), listed in the API and on
      // the page, unread for each member until they open it.
      const list = await t.request("/api/v1/orgs/acme/alerts", { cookie: admin.cookie });
      assert.equal(list.status, 200);
      const items = (await list.json()).items as { title: string; rule_name: string }[];
      assert.deepEqual(items.map((a) => a.title).sort(), titles(rx.got));
      assert.deepEqual(
        items.map((a) => a.rule_name).sort(),
        [...Array(5).fill(BUILD_RULE), WEBHOOK_RULE].sort(),
      );
      assert.equal((await s.alerts.history.unreadCount(admin.id, org.id)).count, 6);
      const page = await (await t.request("/o/acme/notifications", { cookie: admin.cookie }))
        .text();
      assert.match(page, /App shop: build #13 of web failed \(dependency install\)/);
      assert.match(page, /Webhook of app shop disabled for 5 minutes after 10 bad signatures/);

      // Another organization's channel heard nothing of acme's builds; its own build, it hears.
      assert.equal(betaRx.got.length, 0);
      s.events.emit("builds.notice", notice(beta.id, 1, "deploy_failed", "No task started."));
      await s.alerts.idle();
      assert.deepEqual(titles(betaRx.got), ["App shop: deployment from build #1 failed"]);
      assert.equal(rx.got.length, 6);
    } finally {
      await rx.close();
      await betaRx.close();
      await s.alerts.idle();
    }
  },
);
