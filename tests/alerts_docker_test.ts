/**
 * Alerts against the real Docker engine through an in-process agent: a restart loop detected from
 * the engine's own events, and host offline after the agent stops. Both dialects.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { attachTestAgent } from "./support/agent.ts";
import { manualClock } from "./support/clock.ts";
import { startReceiver, waitUntil } from "./support/receivers.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import { base64url } from "../lib/util/ids.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import type { Clock } from "../lib/util/clock.ts";

const SUITE = "alerts";
const SECRET = "webhook-signing-secret-1234";
const ENV = {
  CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
  CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
};

function dockerDbTest(name: string, fn: (h: DbHandle) => Promise<void>) {
  dbTest(`[docker] ${name}`, fn, { ignore: dockerTestsIgnored(SUITE) });
}

async function withChannel(h: DbHandle, clock?: Clock) {
  const t = testApp(h, clock, undefined, ENV);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const rx = startReceiver({ secret: SECRET });
  const res = await t.request("/api/v1/orgs/acme/channels", {
    method: "POST",
    cookie: owner.cookie,
    json: { name: "ops", kind: "webhook", config: { url: `${rx.url}/hook`, secret: SECRET } },
  });
  assert.equal(res.status, 201, await res.text());
  return { t, s: t.services, org, rx };
}

dockerDbTest(
  "alerts: a container that exits every second is reported as a restart loop",
  async (h) => {
    const { s, org, rx } = await withChannel(h);
    const agent = await attachTestAgent(s, org.id, "local");
    try {
      await withDocker(SUITE, async () => {
        const name = testName(SUITE, "loop");
        const { id } = await agent.conn.call<{ id: string }>("container.create", {
          spec: {
            name,
            image: TEST_IMAGE,
            cmd: ["sh", "-c", "sleep 1; exit 1"],
            restart_policy: "always",
            labels: testLabels(SUITE),
          },
          start: true,
        });
        // The engine is shared with other suites (and their containers come and go): look only at
        // notifications about this container.
        const mine = () => rx.got.filter((g) => g.json.container === name);
        // Default rule: 3 restarts within 5 minutes.
        await waitUntil(() => mine().length >= 1, "the restart-loop notification", 30_000);
        await s.alerts.idle();
        const fired = mine()[0].json;
        assert.equal(fired.event, "firing");
        assert.equal(fired.title, `Container restart loop on local / ${name}`);
        assert.match(String(fired.detail), /restarted [3-9] times in 5m/);
        assert.ok(mine()[0].verified);
        // It keeps restarting: still one alert, no flood.
        await new Promise((r) => setTimeout(r, 3000));
        await s.alerts.idle();
        assert.equal(mine().length, 1);
        const alerts = await s.alerts.history.list({ orgId: org.id, limit: 100 });
        assert.equal(alerts.rows.filter((a) => a.container_id === id).length, 1);
        // Removing the container ends the loop and resolves the alert.
        await agent.conn.call("container.remove", { id, force: true });
        await waitUntil(() => mine().length >= 2, "the resolution", 15_000);
        assert.equal(mine()[1].json.event, "resolved");
      });
    } finally {
      await agent.stop();
      await s.alerts.idle();
      await rx.close();
    }
  },
);

dockerDbTest(
  "alerts: host offline fires after the agent stops for the hold time, resolves when it returns",
  async (h) => {
    const clock = manualClock(Date.now());
    const { s, org, rx } = await withChannel(h, clock);
    let agent = await attachTestAgent(s, org.id, "local");
    // Other suites' containers on the same engine may raise their own alerts meanwhile.
    const got = () => rx.got.filter((g) => g.json.rule === "Host offline for 2 minutes");
    try {
      await s.alerts.tick();
      await s.alerts.idle();
      assert.equal(got().length, 0, "connected: not offline");
      await agent.stop();
      await waitUntil(() => !s.agents.isOnline(agent.host.id), "the agent to disconnect");
      // The registry records the disconnection (last seen) asynchronously.
      await new Promise((r) => setTimeout(r, 200));
      clock.advance(119_000);
      await s.alerts.tick();
      await s.alerts.idle();
      assert.equal(got().length, 0, "1:59 without the agent: not yet");
      clock.advance(2_000);
      await s.alerts.tick();
      await s.alerts.idle();
      assert.equal(got().length, 1);
      assert.equal(got()[0].json.event, "firing");
      assert.equal(got()[0].json.title, "Host offline for 2 minutes on local");
      assert.equal(got()[0].json.severity, "critical");
      // A second tick while still offline says nothing new.
      clock.advance(30_000);
      await s.alerts.tick();
      await s.alerts.idle();
      assert.equal(got().length, 1);

      agent = await attachTestAgent(s, org.id, "local");
      await waitUntil(() => got().length >= 2, "the resolution");
      assert.equal(got()[1].json.event, "resolved");
    } finally {
      await agent.stop();
      await s.alerts.idle();
      await rx.close();
    }
  },
);
