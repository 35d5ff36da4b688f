/**
 * Issue 16's notification, on both dialects: rotating a secret that apps use tells the
 * organization's channels and notification center, one message per app, naming who rotated it,
 * how, and what became of the app — and never the value.
 *
 * The first test goes the real way: an admin rotates through the API, the secrets module emits
 * `secret.rotated`, the apps module's handler restarts (or not) the apps whose running deployment
 * uses the secret, notes it on the trail and emits `apps.secret_restarts`, and the alerts'
 * default rule sends each app's message to a signed webhook. There is no Swarm here, so the
 * restarts the handler tries are refused and say why (a real restart's deployment number is the
 * second test's, fed to the alerts through the bus as the apps module would).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { loopbackAlertsEnv, type Received, startReceiver } from "./support/receivers.ts";
import { createAppStore } from "../lib/apps/store.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { systemClock } from "../lib/util/clock.ts";
import { TEST_IMAGE } from "../lib/docker/testing.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import type { Services } from "../services.ts";

const HOOK_SECRET = "webhook-signing-secret-rotations";
const VALUE = "canary-rotation-" + crypto.randomUUID();
const RULE = "Secret rotated in an app";

/** An app whose one service gets DB_PASSWORD (as an env variable), with a running deployment. */
async function appUsingSecret(
  h: DbHandle,
  orgId: string,
  name: string,
  desired: "running" | "stopped" = "running",
) {
  const store = createAppStore(h.db, systemClock);
  const spec = AppSpec.parse({
    services: [{
      name: "web",
      image: TEST_IMAGE,
      secrets: [{ secret: "DB_PASSWORD", env: "DB_PASSWORD" }],
    }],
  });
  let app = await store.create(orgId, { name, spec }, null);
  const d = await store.startDeployment(app, {
    spec,
    trigger: { kind: "create", actor_type: "system", actor_id: null },
  });
  await store.setStatus(d, "running");
  if (desired === "stopped") app = await store.update(app, { desired_state: "stopped" });
  return app;
}

/** Every trace of the value: as given, and base64 (the API's binary form). */
function assertNoValue(where: string, text: string) {
  assert.ok(!text.includes(VALUE), `${where} holds the value`);
  assert.ok(!text.includes(btoa(VALUE)), `${where} holds the value in base64`);
}

async function setup(h: DbHandle) {
  const t = testApp(h, undefined, undefined, loopbackAlertsEnv());
  const s: Services = t.services;
  const admin = await t.user("ann@acme.io", { org: "acme", role: "admin" });
  const org = (await s.orgs.bySlug("acme"))!;
  const rx = startReceiver({ secret: HOOK_SECRET });
  await s.alerts.channels.create(SYSTEM_CTX, org.id, {
    name: "ops",
    kind: "webhook",
    config: { url: `${rx.url}/hook`, secret: HOOK_SECRET },
  });
  return { t, s, admin, org, rx };
}

/** The messages received since `from`, by title. */
const byTitle = (got: Received[], from = 0) =>
  Object.fromEntries(got.slice(from).map((g) => [String(g.json.title), g]));

dbTest(
  "[e2e] secret rotation: an admin rotates a secret apps use → one signed webhook message per app naming who, how and what became of it, in the notification center too, never the value",
  async (h) => {
    const { t, s, admin, org, rx } = await setup(h);
    try {
      const secrets = async (method: string, path: string, json?: unknown) => {
        const res = await t.request(`/api/v1/orgs/acme/secrets${path}`, {
          method,
          cookie: admin.cookie,
          json,
        });
        const text = await res.text();
        assertNoValue(`${method} ${path}`, text);
        return { status: res.status, body: text ? JSON.parse(text) : null };
      };
      assert.equal((await secrets("POST", "", { name: "DB_PASSWORD", value: "v1" })).status, 201);
      await appUsingSecret(h, org.id, "shop");
      await appUsingSecret(h, org.id, "blog", "stopped");
      // An app without the secret is not told.
      const other = createAppStore(h.db, systemClock);
      await other.create(org.id, {
        name: "docs",
        spec: AppSpec.parse({ services: [{ name: "web", image: TEST_IMAGE }] }),
      }, null);

      // A rolling rotation: shop's restart is refused (no Swarm here), blog is stopped.
      let r = await secrets("PUT", "/DB_PASSWORD", { value: VALUE, rotation: "rolling" });
      assert.equal(r.status, 200);
      assert.equal(r.body.version, 2);
      await s.alerts.idle();
      assert.equal(rx.got.length, 2, JSON.stringify(rx.got.map((g) => g.json)));
      let got = byTitle(rx.got);
      const shopMsg = got["App shop: secret DB_PASSWORD rotated to version 2"];
      const blogMsg = got["App blog: secret DB_PASSWORD rotated to version 2"];
      assert.ok(shopMsg && blogMsg, Object.keys(got).join(" | "));
      for (const m of [shopMsg, blogMsg]) {
        assert.ok(m.verified, "HMAC signature verified by the receiver");
        assert.equal(m.json.event, "firing");
        assert.equal(m.json.rule, RULE);
        assert.equal(m.json.org, "acme");
        assert.equal(m.json.value, 2);
        assert.equal(m.json.host, null);
        assertNoValue("a webhook message", m.body);
      }
      assert.match(
        String(shopMsg.json.detail),
        /^ann@acme\.io rotated DB_PASSWORD to version 2 \(rolling restart\); shop was not restarted \(There is no cluster yet.*\)$/,
      );
      assert.equal(
        blogMsg.json.detail,
        "ann@acme.io rotated DB_PASSWORD to version 2 (rolling restart); blog was not restarted (is stopped; gets it when started)",
      );

      // The trail says the same as before (the apps module's note), and no value.
      const trail = await secrets("GET", "/DB_PASSWORD/trail");
      assert.deepEqual(
        trail.body.items.map((e: { kind: string }) => e.kind),
        ["restarted", "rotated", "created"],
      );

      // A rotation for the next deployment: told again, with what that means.
      r = await secrets("PUT", "/DB_PASSWORD", { value: VALUE + "-3", rotation: "next_deploy" });
      assert.equal(r.status, 200);
      await s.alerts.idle();
      assert.equal(rx.got.length, 4);
      got = byTitle(rx.got, 2);
      assert.equal(
        got["App shop: secret DB_PASSWORD rotated to version 3"]?.json.detail,
        "ann@acme.io rotated DB_PASSWORD to version 3 (at next deploy); shop gets it at its next deployment",
      );
      assert.ok(got["App blog: secret DB_PASSWORD rotated to version 3"]);

      // The notification center: each rotation of each app is an alert (instant: it has no
      // end to wait for), on the page and in the API.
      const list = await t.request("/api/v1/orgs/acme/alerts", { cookie: admin.cookie });
      const text = await list.text();
      assertNoValue("the alerts API", text);
      const titles = JSON.parse(text).items.map((a: { title: string }) => a.title).sort();
      assert.deepEqual(titles, [
        "App blog: secret DB_PASSWORD rotated to version 2",
        "App blog: secret DB_PASSWORD rotated to version 3",
        "App shop: secret DB_PASSWORD rotated to version 2",
        "App shop: secret DB_PASSWORD rotated to version 3",
      ]);
      // Unread for each member until they open the notification center.
      assert.equal((await s.alerts.history.unreadCount(admin.id, org.id)).count, 4);
      const page = await (await t.request("/o/acme/notifications", { cookie: admin.cookie }))
        .text();
      assert.match(page, /App shop: secret DB_PASSWORD rotated to version 3/);
      assertNoValue("the notifications page", page);
      const deliveries = await h.db.selectFrom("alert_deliveries").selectAll().execute();
      assert.equal(deliveries.length, 4);
      assertNoValue("the stored deliveries", JSON.stringify(deliveries));
    } finally {
      await rx.close();
      await s.alerts.idle();
    }
  },
);

dbTest(
  "[e2e] secret rotation: an app restarted for a rotation is told with its deployment number, once per rotation",
  async (h) => {
    const { s, org, rx } = await setup(h);
    try {
      s.events.emit("apps.secret_restarts", {
        org_id: org.id,
        secret: { id: "sec1", name: "API_TOKEN" },
        version: 4,
        mode: "restart",
        actor_name: "ann@acme.io (token)",
        apps: [{ id: "app1", name: "shop", deployment_number: 12 }],
      });
      await s.alerts.idle();
      assert.equal(rx.got.length, 1);
      assert.equal(rx.got[0].json.title, "App shop: secret API_TOKEN rotated to version 4");
      assert.equal(
        rx.got[0].json.detail,
        "ann@acme.io (token) rotated API_TOKEN to version 4 (restart now); shop: restart started with deployment #12",
      );
      // The same rotation heard twice is told once.
      s.events.emit("apps.secret_restarts", {
        org_id: org.id,
        secret: { id: "sec1", name: "API_TOKEN" },
        version: 4,
        mode: "restart",
        actor_name: "ann@acme.io (token)",
        apps: [{ id: "app1", name: "shop", deployment_number: 12 }],
      });
      await s.alerts.idle();
      assert.equal(rx.got.length, 1);
    } finally {
      await rx.close();
      await s.alerts.idle();
    }
  },
);
