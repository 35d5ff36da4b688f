/**
 * Health checks end to end with the real engine and the real agent code (the test agent of
 * tests/support/agent.ts: session, control and the health runner over the in-process transport,
 * as the embedded agent runs them): a busybox httpd
 * serving 200 becomes healthy, is made to serve 404 and turns unhealthy after `retries` with a
 * signed webhook alert, then healthy again with the resolved message; TCP checks on an open and a
 * closed port; a container declared by labels gets its check without a click. Both dialects.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { startReceiver } from "./support/receivers.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import type { DockerClient } from "../lib/docker/client.ts";
import { attachTestAgent } from "./support/agent.ts";
import { base64url } from "../lib/util/ids.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const SUITE = "health";
const SECRET = "webhook-signing-secret-1234";

/** Polls an async condition (the database) until it holds, or fails naming it. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const until = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sh(docker: DockerClient, id: string, script: string) {
  const { id: execId } = await docker.execCreate(id, { cmd: ["sh", "-c", script] });
  const stream = await docker.execStart(execId);
  for await (const _ of stream) { /* drain */ }
}

dbTest(
  "[docker] health: httpd healthy → unhealthy (alert) → healthy (resolved), TCP, labels",
  run,
  { ignore: dockerTestsIgnored(SUITE) },
);

async function run(h: DbHandle) {
  const t = testApp(h, undefined, undefined, {
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
  });
  const s = t.services;
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const org = (await s.orgs.bySlug("acme"))!;
  const api = async (method: string, path: string, json?: unknown) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, { method, cookie: owner.cookie, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  const rx = startReceiver({ secret: SECRET });
  const ch = await api("POST", "/channels", {
    name: "ops",
    kind: "webhook",
    config: { url: `${rx.url}/hook`, secret: SECRET },
  });
  assert.equal(ch.status, 201, ch.text);
  const agent = await attachTestAgent(s, org.id);
  try {
    await withDocker(SUITE, async (docker) => {
      const web = testName(SUITE, "web");
      const pg = testName(SUITE, "labelled");
      const httpd = (port: number) => [
        "sh",
        "-c",
        `mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p ${port} -h /www`,
      ];
      const { id: webId } = await agent.conn.call<{ id: string }>("container.create", {
        spec: { name: web, image: TEST_IMAGE, cmd: httpd(8080), labels: testLabels(SUITE) },
        start: true,
      });
      // Declared by labels: a TCP check on 8081 every 2 s.
      await agent.conn.call("container.create", {
        spec: {
          name: pg,
          image: TEST_IMAGE,
          cmd: httpd(8081),
          labels: {
            ...testLabels(SUITE),
            "capstan.health.tcp": "8081",
            "capstan.health.interval": "2s",
            "capstan.health.timeout": "1s",
            "capstan.health.retries": "2",
          },
        },
        start: true,
      });
      const byName = async (name: string) =>
        (await api("GET", `/health-checks?container=${name}`)).body.items as {
          id: string;
          state: string;
          source: string;
          kind: string;
          config: { port: number };
        }[];
      await eventually("the web container in the hub's cache", async () =>
        Boolean(
          await s.db.selectFrom("containers").select("id").where("id", "=", webId)
            .executeTakeFirst(),
        ));

      const create = async (body: Record<string, unknown>) => {
        const r = await api("POST", "/health-checks", {
          host_id: agent.host.id,
          container: web,
          interval_s: 2,
          timeout_s: 1,
          retries: 2,
          ...body,
        });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const httpId = await create({ kind: "http", http: { port: 8080, path: "/index.html" } });
      const openId = await create({ kind: "tcp", tcp: { port: 8080 } });
      const closedId = await create({ kind: "tcp", tcp: { port: 9 } });
      const stateOf = async (id: string) => (await api("GET", `/health-checks/${id}`)).body.state;

      await eventually("the HTTP check healthy", async () => await stateOf(httpId) === "healthy");
      await eventually("the open port healthy", async () => await stateOf(openId) === "healthy");
      await eventually("the closed port unhealthy", async () => {
        return await stateOf(closedId) === "unhealthy";
      });
      const closed = (await api("GET", `/health-checks/${closedId}`)).body;
      assert.equal(closed.last.ok, false);
      assert.ok(closed.consecutive_failures >= 2);
      const http = (await api("GET", `/health-checks/${httpId}`)).body;
      assert.equal(http.last.status_code, 200);
      assert.ok(http.last.response_ms >= 0);

      // The labelled container got its check without a click, and it passes.
      await eventually("the label check", async () => (await byName(pg)).length === 1);
      const [lc] = await byName(pg);
      assert.equal(lc.source, "label");
      assert.equal(lc.kind, "tcp");
      assert.equal(lc.config.port, 8081);
      await eventually("the label check healthy", async () => await stateOf(lc.id) === "healthy");

      // Only this suite's notifications about the web container and its HTTP check.
      const mine = () =>
        rx.got.filter((g) =>
          g.json.container === web && String(g.json.title).includes("/index.html")
        );
      assert.equal(mine().length, 0);

      // Made to fail: the page goes, httpd answers 404 → unhealthy after 2 results → alert.
      await sh(docker, webId, "rm /www/index.html");
      await eventually("the HTTP check unhealthy", async () => {
        return await stateOf(httpId) === "unhealthy";
      });
      await eventually("the firing notification", () => Promise.resolve(mine().length >= 1));
      const fired = mine()[0];
      assert.ok(fired.verified);
      assert.equal(fired.json.event, "firing");
      assert.equal(fired.json.severity, "critical");
      assert.match(String(fired.json.title), /^Health check failing on local \//);
      assert.match(String(fired.json.detail), /failed 2 times in a row/);
      const failing = (await api("GET", `/health-checks/${httpId}/results?limit=5`)).body.items;
      assert.equal(failing[0].status_code, 404);

      // Healthy again → resolved.
      await sh(docker, webId, "echo ok > /www/index.html");
      await eventually("the HTTP check healthy again", async () => {
        return await stateOf(httpId) === "healthy";
      });
      await eventually("the resolved notification", () => Promise.resolve(mine().length >= 2));
      assert.equal(mine()[1].json.event, "resolved");
      assert.equal(mine().length, 2, "one alert, no flood");

      const series = (await api("GET", `/health-checks/${httpId}/response-times?range=1h`)).body;
      assert.ok(series.points.length >= 1);
      assert.ok(series.points.some((p: { failures: number }) => p.failures >= 2));

      // Removing the labelled container removes its check.
      const pgRow = await s.db.selectFrom("containers").select("id").where("name", "in", [
        pg,
        `/${pg}`,
      ]).executeTakeFirstOrThrow();
      await agent.conn.call("container.remove", { id: pgRow.id, force: true });
      await eventually("the label check gone", async () => (await byName(pg)).length === 0);
    });
  } finally {
    await agent.stop();
    await s.health.service.idle();
    await s.alerts.idle();
    await rx.close();
  }
}
