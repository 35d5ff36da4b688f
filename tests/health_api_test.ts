/**
 * Health checks API on both dialects, without an engine: create on a cached container (audited),
 * hostile inputs refused with 400 naming the field, roles, list with counts, results ingested
 * through the agent connection (another host's check ids ignored), the state machine moving a
 * check, the default alert rule firing and resolving through a webhook, history pages, the
 * response-time series, uptime, label checks following their containers, and retention.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { startReceiver, waitUntil } from "./support/receivers.ts";
import { base64url } from "../lib/util/ids.ts";
import { purgeHealthResults } from "../lib/health/retention.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import type { HealthResult } from "../lib/protocol/health.ts";
import { fakeContainer } from "./support/containers.ts";
import { attachScriptedAgent } from "./support/agent.ts";

const SECRET = "webhook-signing-secret-1234";
const T0 = Date.UTC(2026, 0, 1);

async function setup(h: DbHandle) {
  const clock = manualClock(T0);
  const t = testApp(h, clock, undefined, {
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
  });
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const host = await s.hosts.ensureLocal(org.id, "local");
  const other = (await s.hosts.create(SYSTEM_CTX, org.id, { name: "other" })).host;
  await s.hosts.applySnapshot(host, [fakeContainer("a", "web"), fakeContainer("b", "db")]);
  await s.hosts.applySnapshot(other, [fakeContainer("c", "cache")]);
  const api = async (method: string, path: string, json?: unknown, cookie = owner.cookie) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, { method, cookie, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  return { t, s, org, host, other, api, owner, viewer, clock };
}

dbTest(
  "[e2e] health checks API: create, hostile inputs, roles, list, update, delete",
  async (h) => {
    const { t, s, host, api, viewer, org } = await setup(h);
    const created = await api("POST", "/health-checks", {
      host_id: host.id,
      container: "web",
      kind: "http",
      http: { port: 8080, path: "/healthz" },
      interval_s: 10,
      timeout_s: 2,
      retries: 2,
    });
    assert.equal(created.status, 201, created.text);
    const c = created.body;
    assert.equal(c.container_id, "a".repeat(64));
    assert.equal(c.container_name, "web");
    assert.equal(c.state, "unknown");
    assert.equal(c.source, "manual");
    assert.equal(c.name, "HTTP :8080/healthz");
    assert.equal(c.config.path, "/healthz");

    const hostile: [Record<string, unknown>, string][] = [
      [{ kind: "command", command: "pg_isready; reboot" }, "command"],
      [{ kind: "command", command: { argv: "pg_isready -q" } }, "command.argv"],
      [{ kind: "http", http: { port: 80, headers: { "X-A": "1\r\nX-B: 2" } } }, "http.headers.X-A"],
      [{ kind: "http", http: { url: "file:///etc/passwd" } }, "http.url"],
      [{ kind: "http", http: { url: "http://169.254.169.254/latest/" } }, "http.url"],
      [{ kind: "http", http: { url: "http://[fe80::1]:80/" } }, "http.url"],
      [{ kind: "http", http: { url: "http://metadata.google.internal/" } }, "http.url"],
      [{ kind: "http", http: { host: "169.254.10.1", port: 80 } }, "http.host"],
      [{ kind: "tcp", tcp: { port: 70000 } }, "tcp.port"],
    ];
    for (const [body, field] of hostile) {
      const r = await api("POST", "/health-checks", {
        host_id: host.id,
        container: "web",
        ...body,
      });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.body.error.fields[field], `${field} named in ${r.text}`);
    }
    assert.equal(
      (await api("POST", "/health-checks", { host_id: host.id, container: "nope", kind: "docker" }))
        .status,
      404,
    );
    // Viewers read but may not start monitoring.
    const denied = await api(
      "POST",
      "/health-checks",
      { host_id: host.id, container: "db", kind: "tcp", tcp: { port: 5432 } },
      viewer.cookie,
    );
    assert.equal(denied.status, 403);
    assert.equal(
      (await api("GET", `/health-checks/${c.id}`, undefined, viewer.cookie)).status,
      200,
    );

    const tcp = await api("POST", "/health-checks", {
      host_id: host.id,
      container: "b".repeat(12),
      kind: "tcp",
      tcp: { port: 5432 },
    });
    assert.equal(tcp.status, 201, tcp.text);
    const list = await api("GET", "/health-checks");
    assert.equal(list.body.total, 2);
    assert.deepEqual(list.body.counts, { unknown: 2, healthy: 0, unhealthy: 0 });
    assert.equal((await api("GET", "/health-checks?container=db")).body.items.length, 1);
    assert.equal((await api("GET", "/health-checks?state=healthy")).body.items.length, 0);

    const upd = await api("PATCH", `/health-checks/${c.id}`, { retries: 4, name: "Web health" });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.retries, 4);
    assert.equal(upd.body.config.port, 8080, "the probe is kept");
    const badUpd = await api("PATCH", `/health-checks/${c.id}`, { timeout_s: 60 });
    assert.equal(badUpd.status, 400);
    assert.ok(badUpd.body.error.fields.timeout_s);

    assert.equal((await api("DELETE", `/health-checks/${tcp.body.id}`)).status, 204);
    assert.equal((await api("GET", `/health-checks/${tcp.body.id}`)).status, 404);
    const audit = await s.db.selectFrom("audit_log").select(["action", "target_id"])
      .where("org_id", "=", org.id).where("action", "like", "health_check.%").orderBy("at")
      .execute();
    assert.deepEqual(audit.map((a) => a.action), [
      "health_check.created",
      "health_check.created",
      "health_check.updated",
      "health_check.deleted",
    ]);
    const spec = await s.health.service.specsFor(host.id);
    assert.deepEqual(spec.map((x) => x.id), [c.id]);
    // OpenAPI documents the routes.
    const doc = await (await t.request("/api/v1/openapi.json")).json();
    for (const p of ["", "/{id}", "/{id}/results", "/{id}/response-times"]) {
      assert.ok(doc.paths[`/api/v1/orgs/{org}/health-checks${p}`], p);
    }
  },
);

dbTest(
  "[e2e] health results: ingestion, state machine, alert fired and resolved, history",
  async (h) => {
    const { s, host, other, api, org, clock } = await setup(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      const ch = await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: SECRET },
      });
      assert.equal(ch.status, 201, ch.text);
      // Rules are seeded on first use: the default health rule is among them.
      const rules = await api("GET", "/alert-rules");
      assert.ok(
        rules.body.items.some((r: { event: string; severity: string }) =>
          r.event === "health_check" && r.severity === "critical"
        ),
      );
      const c = (await api("POST", "/health-checks", {
        host_id: host.id,
        container: "web",
        kind: "http",
        http: { port: 8080 },
        interval_s: 10,
        timeout_s: 2,
        retries: 2,
      })).body;
      const foreign = (await api("POST", "/health-checks", {
        host_id: other.id,
        container: "cache",
        kind: "tcp",
        tcp: { port: 6379 },
      })).body;

      // The host's agent connection delivers results (a memory transport: the real protocol path).
      const { hubEnd, agentEnd, ops } = await attachScriptedAgent(s, host);
      // The hub syncs the host's checks at once (this fake agent does not answer).
      await waitUntil(() => ops.includes("health.sync"), "the health.sync call");

      let at = T0 + 1000;
      const send = (results: Partial<HealthResult>[]) =>
        agentEnd.send(JSON.stringify({
          t: "health",
          results: results.map((r) => ({
            check_id: c.id,
            at: at += 10_000,
            ok: true,
            response_ms: 12.5,
            status_code: 200,
            ...r,
          })),
        }));
      const settle = async () => {
        await new Promise((r) => setTimeout(r, 20));
        await s.health.service.idle(); // not health.idle(): the sync to this silent agent waits out its timeout
        await s.alerts.idle();
      };
      send([{}, {}, { check_id: foreign.id, ok: false }]);
      await settle();
      let got = (await api("GET", `/health-checks/${c.id}`)).body;
      assert.equal(got.state, "healthy");
      assert.equal(got.last.status_code, 200);
      assert.equal((await api("GET", `/health-checks/${foreign.id}`)).body.last, null, "ignored");

      // One failure is not enough (retries 2), two are.
      send([{ ok: false, status_code: 503, error: "unexpected status 503", response_ms: 40 }]);
      await settle();
      assert.equal((await api("GET", `/health-checks/${c.id}`)).body.state, "healthy");
      send([{ ok: false, status_code: 503, error: "unexpected status 503", response_ms: 60 }]);
      await settle();
      got = (await api("GET", `/health-checks/${c.id}`)).body;
      assert.equal(got.state, "unhealthy");
      await waitUntil(() => rx.got.length >= 1, "the firing notification");
      const fired = rx.got[0].json;
      assert.equal(fired.event, "firing");
      assert.equal(fired.severity, "critical");
      assert.equal(fired.container, "web");
      assert.match(String(fired.title), /^Health check failing on local \/ web/);
      assert.match(String(fired.detail), /failed 2 times in a row: unexpected status 503/);
      assert.deepEqual((await api("GET", "/health-checks")).body.counts, {
        unknown: 1,
        healthy: 0,
        unhealthy: 1,
      });

      // Back: one success is not enough either; two resolve the alert.
      send([{}]);
      await settle();
      assert.equal((await api("GET", `/health-checks/${c.id}`)).body.state, "unhealthy");
      send([{}]);
      await settle();
      assert.equal((await api("GET", `/health-checks/${c.id}`)).body.state, "healthy");
      await waitUntil(() => rx.got.length >= 2, "the resolved notification");
      assert.equal(rx.got[1].json.event, "resolved");
      const alerts = await s.alerts.history.list({ orgId: org.id, limit: 10 });
      assert.equal(alerts.rows.length, 1);
      assert.equal(alerts.rows[0].state, "resolved");

      // History: 6 results, newest first, pages of 4 then 2.
      const p1 = (await api("GET", `/health-checks/${c.id}/results?limit=4`)).body;
      assert.equal(p1.items.length, 4);
      assert.ok(p1.items[0].at > p1.items[3].at);
      const p2 =
        (await api("GET", `/health-checks/${c.id}/results?limit=4&cursor=${p1.next_cursor}`))
          .body;
      assert.equal(p2.items.length, 2);
      assert.equal(p2.next_cursor, null);
      assert.equal((await api("GET", `/health-checks/${c.id}/results?cursor=x`)).status, 400);
      assert.equal((await api("GET", `/health-checks/${c.id}/results?limit=5000`)).status, 400);

      clock.set(at + 1000);
      const series = (await api("GET", `/health-checks/${c.id}/response-times?range=1h`)).body;
      assert.equal(series.bucket_ms, 60_000);
      assert.equal(series.points.reduce((n: number, p: { count: number }) => n + p.count, 0), 6);
      assert.equal(Math.max(...series.points.map((p: { max_ms: number }) => p.max_ms)), 60);
      assert.equal(
        series.points.reduce((n: number, p: { failures: number }) => n + p.failures, 0),
        2,
      );
      got = (await api("GET", `/health-checks/${c.id}`)).body;
      assert.deepEqual(got.uptime, { "24h": 66.667, "7d": 66.667, "30d": 66.667 });

      // A replayed batch changes nothing.
      at -= 20_000;
      send([{ ok: false }]);
      await settle();
      assert.equal(
        (await api("GET", `/health-checks/${c.id}/results?limit=100`)).body.items.length,
        6,
      );

      // Stop monitoring: the check and its history go.
      assert.equal((await api("DELETE", `/health-checks/${c.id}`)).status, 204);
      assert.equal(
        (await s.db.selectFrom("health_results").select("id").where("check_id", "=", c.id)
          .execute())
          .length,
        0,
      );
      hubEnd.close();
    } finally {
      await s.alerts.idle();
      await rx.close();
    }
  },
);

dbTest(
  "[e2e] label checks appear and disappear with their containers; only enabled is editable",
  async (h) => {
    const { s, host, api } = await setup(h);
    const labelled = fakeContainer("d", "pg", {
      "capstan.health.tcp": "5432",
      "capstan.health.interval": "10s",
      "capstan.health.retries": "2",
    });
    await s.hosts.applySnapshot(host, [fakeContainer("a", "web"), labelled]);
    await s.health.service.containersChanged(host);
    let list = (await api("GET", "/health-checks")).body;
    assert.equal(list.items.length, 1);
    const lc = list.items[0];
    assert.equal(lc.source, "label");
    assert.equal(lc.container_name, "pg");
    assert.equal(lc.kind, "tcp");
    assert.equal(lc.interval_s, 10);
    assert.equal(lc.retries, 2);
    // The same snapshot again changes nothing.
    await s.health.service.containersChanged(host);
    assert.equal((await api("GET", "/health-checks")).body.items[0].id, lc.id);

    assert.equal((await api("PATCH", `/health-checks/${lc.id}`, { retries: 5 })).status, 409);
    assert.equal((await api("DELETE", `/health-checks/${lc.id}`)).status, 409);
    const off = await api("PATCH", `/health-checks/${lc.id}`, { enabled: false });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.enabled, false);
    assert.deepEqual(await s.health.service.specsFor(host.id), [], "disabled checks do not run");
    await s.health.service.containersChanged(host);
    assert.equal((await api("GET", `/health-checks/${lc.id}`)).body.enabled, false, "kept");

    // A manual check follows its container when it is recreated under the same name.
    const m = (await api("POST", "/health-checks", {
      host_id: host.id,
      container: "web",
      kind: "docker",
    })).body;
    await s.hosts.applySnapshot(host, [fakeContainer("e", "web")]);
    await s.health.service.containersChanged(host);
    list = (await api("GET", "/health-checks")).body;
    assert.deepEqual(
      list.items.map((i: { id: string }) => i.id),
      [m.id],
      "the label check is gone",
    );
    assert.equal(list.items[0].container_id, "e".repeat(64));
  },
);

dbTest("purgeHealthResults() deletes results older than the retention", async (h) => {
  const { s, host, api } = await setup(h);
  const c = (await api("POST", "/health-checks", {
    host_id: host.id,
    container: "web",
    kind: "docker",
  })).body;
  const DAY = 86_400_000;
  await s.db.insertInto("health_results").values(
    [40, 31, 29, 1].map((d) => ({
      check_id: c.id as string,
      at: T0 - d * DAY,
      ok: 1,
      response_ms: 1,
    })),
  ).execute();
  assert.deepEqual(await purgeHealthResults(s.db, T0, 30), { results: 2 });
  const left = await s.db.selectFrom("health_results").select("at").execute();
  assert.deepEqual(left.map((r) => Number(r.at)).sort(), [T0 - 29 * DAY, T0 - DAY].sort());
  assert.ok(s.health.jobs().some((j) => j.name === "health_retention"));
});

dbTest(
  "[e2e] a check's container counts as gone only on a snapshot or its own destroy event",
  async (h) => {
    const { s, host, api } = await setup(h);
    const c = (await api("POST", "/health-checks", {
      host_id: host.id,
      container: "web",
      kind: "tcp",
      tcp: { port: 80 },
    })).body;
    const gone = async () => (await api("GET", `/health-checks/${c.id}`)).body.container_gone_at;
    const labelled = fakeContainer("f", "lab", { "capstan.health.tcp": "80" });
    await s.hosts.applyContainer(host, labelled.id, labelled);
    await s.health.service.containersChanged(host, { action: "create", id: labelled.id });
    const labelChecks = async () =>
      (await api("GET", "/health-checks?container=lab")).body.items.length;
    assert.equal(await labelChecks(), 1);
    // Cache rows vanish without a destroy (as an exec event once made them do); another
    // container's event must not stop the check, nor delete the label check and its history.
    await s.hosts.applyContainer(host, c.container_id, undefined);
    await s.hosts.applyContainer(host, labelled.id, undefined);
    await s.health.service.containersChanged(host, { action: "create", id: "e".repeat(64) });
    assert.equal(await gone(), null);
    assert.ok((await s.health.service.specsFor(host.id)).some((x) => x.id === c.id));
    assert.equal(await labelChecks(), 1);
    await s.health.service.containersChanged(host, { action: "destroy", id: labelled.id });
    assert.equal(await labelChecks(), 0, "its own destroy removes the label check");
    // Its own destroy event does.
    await s.health.service.containersChanged(host, { action: "destroy", id: c.container_id });
    assert.equal(typeof await gone(), "number");
    assert.ok(!(await s.health.service.specsFor(host.id)).some((x) => x.id === c.id));
    // Back in a snapshot under the same id: it runs again.
    await s.hosts.applySnapshot(host, [fakeContainer("a", "web"), fakeContainer("b", "db")]);
    await s.health.service.containersChanged(host);
    assert.equal(await gone(), null);
    // Missing from a snapshot: gone.
    await s.hosts.applySnapshot(host, [fakeContainer("b", "db")]);
    await s.health.service.containersChanged(host);
    assert.equal(typeof await gone(), "number");
  },
);
