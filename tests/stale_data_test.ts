/**
 * Issue 11, item 11 (the Docker parts), on both dialects without an engine: after a host is
 * renamed its alerts (stored and new) show the new name, and a container's Docker status text
 * ("Exited (1) About a minute ago") ages with the clock instead of staying as the agent last said.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { fakeContainer } from "./support/containers.ts";
import { attachScriptedAgent } from "./support/agent.ts";

const T0 = Date.UTC(2026, 0, 1);

dbTest("[e2e] a renamed host's alerts show its new name, stored ones and new ones", async (h) => {
  const clock = manualClock(T0);
  const t = testApp(h, clock);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const host = (await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" })).host;
  await s.hosts.applySnapshot(host, [fakeContainer("a", "shop"), fakeContainer("b", "cart")]);
  const api = async (method: string, path: string, json?: unknown) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, {
      method,
      cookie: owner.cookie,
      json,
    });
    return { status: res.status, body: await res.json() };
  };
  const check = async (container: string) =>
    (await api("POST", "/health-checks", {
      host_id: host.id,
      container,
      kind: "tcp",
      tcp: { port: 9 },
      retries: 1,
    })).body.id as string;
  const agent = await attachScriptedAgent(s, host);
  const fail = async (id: string) => {
    clock.advance(1000);
    agent.send({
      t: "health",
      results: [{ check_id: id, at: clock.now(), ok: false, response_ms: null, error: "refused" }],
    });
    const until = Date.now() + 10_000;
    while ((await api("GET", `/health-checks/${id}`)).body.state !== "unhealthy") {
      if (Date.now() > until) throw new Error("the check never turned unhealthy");
      await new Promise((r) => setTimeout(r, 20));
    }
    await s.alerts.idle();
  };

  await fail(await check("shop"));
  let alerts = (await api("GET", "/alerts")).body.items;
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].host_name, "web-1");
  assert.equal(alerts[0].title, "Health check failing on web-1 / shop (TCP :9)");

  const renamed = await api("PATCH", `/hosts/${host.id}`, { name: "shop-eu-1" });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  alerts = (await api("GET", "/alerts")).body.items;
  assert.equal(alerts[0].host_name, "shop-eu-1");
  assert.equal(alerts[0].title, "Health check failing on shop-eu-1 / shop (TCP :9)");

  // An alert that fires after the rename (no minute has passed: nothing expired by itself).
  await fail(await check("cart"));
  alerts = (await api("GET", "/alerts")).body.items;
  assert.equal(alerts.length, 2);
  assert.deepEqual(alerts.map((a: { host_name: string }) => a.host_name), [
    "shop-eu-1",
    "shop-eu-1",
  ]);
  assert.equal(alerts[0].title, "Health check failing on shop-eu-1 / cart (TCP :9)");
  const page = await (await t.request("/o/acme/notifications", { cookie: owner.cookie })).text();
  assert.doesNotMatch(page, /web-1/);
  agent.hubEnd.close();
});

dbTest(
  "[e2e] a container's status text ages with the clock, on the API and the page",
  async (h) => {
    const clock = manualClock(T0);
    const t = testApp(h, clock);
    const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
    const s = t.services;
    const org = (await s.orgs.bySlug("acme"))!;
    const host = (await s.hosts.create(SYSTEM_CTX, org.id, { name: "box" })).host;
    const said = (id: string, name: string, state: string, status: string) => ({
      ...fakeContainer(id, name),
      state,
      status,
    });
    await s.hosts.applySnapshot(host, [
      said("a", "crashed", "exited", "Exited (1) About a minute ago"),
      said("b", "web", "running", "Up 5 minutes (healthy)"),
      said("c", "fresh", "created", "Created"),
      said("d", "looping", "restarting", "Restarting (2) 3 seconds ago"),
    ]);
    clock.advance(18 * 60_000);
    const res = await t.request("/api/v1/orgs/acme/containers", { cookie: viewer.cookie });
    const items = (await res.json()).items as { name: string; status: string }[];
    const status = Object.fromEntries(items.map((c) => [c.name, c.status]));
    assert.deepEqual(status, {
      crashed: "Exited (1) 19 minutes ago",
      web: "Up 23 minutes (healthy)",
      fresh: "Created",
      looping: "Restarting (2) 18 minutes ago",
    });
    clock.advance(3 * 24 * 3600_000);
    const page = await (await t.request("/o/acme/containers", { cookie: viewer.cookie })).text();
    assert.match(page, /Exited \(1\) 3 days ago/);
    assert.match(page, /Up 3 days \(healthy\)/);
  },
);
