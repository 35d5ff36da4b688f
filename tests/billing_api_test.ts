/**
 * The billing API on both dialects: a platform admin sets the default plan and an org override and
 * tops up with a note; members read balance, ledger, cycles, CSV, projection and plan; bad input is
 * answered by field; a member or org owner may not top up or set prices; another org's billing is
 * invisible (404); every change is audited.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { HOUR_MS } from "../lib/billing/meter.ts";

const GIB = 2 ** 30;
const PLAN = {
  currency: "EUR",
  cpu_core_hour: 100,
  memory_gib_hour: 10,
  storage_gib_month: 0,
  egress_gib: 0,
  build_minute: 0,
};

dbTest(
  "[e2e] billing API: plans, top-up, balance, ledger, cycles, CSV, projection, roles",
  async (h) => {
    const start = Date.UTC(2026, 0, 1);
    const clock = manualClock(start);
    const t = testApp(h, clock);
    const admin = await t.user("root@hub.io", { admin: true });
    const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const outsider = await t.user("owner@globex.io", { org: "globex", role: "owner" });
    const acme = (await t.services.orgs.bySlug("acme"))!;
    const call = async (cookie: string, method: string, path: string, json?: unknown) => {
      const res = await t.request(path, { method, cookie, json });
      const text = await res.text();
      const type = res.headers.get("content-type") ?? "";
      return {
        status: res.status,
        type,
        text,
        body: text && type.includes("json") ? JSON.parse(text) : null,
      };
    };

    // Prices: platform admins only; bad input named by field.
    let r = await call(admin.cookie, "PUT", "/api/v1/billing/plans/default", {
      ...PLAN,
      currency: "euro",
      cpu_core_hour: -1,
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.currency && r.body.error.fields.cpu_core_hour, r.text);
    for (const who of [owner, member]) {
      r = await call(who.cookie, "PUT", "/api/v1/billing/plans/default", PLAN);
      assert.equal(r.status, 403);
      r = await call(who.cookie, "PUT", "/api/v1/billing/orgs/acme/plan", PLAN);
      assert.equal(r.status, 403);
      r = await call(who.cookie, "POST", "/api/v1/billing/orgs/acme/entries", {
        kind: "top_up",
        amount: 1000,
        note: "mine",
      });
      assert.equal(r.status, 403);
    }
    r = await call(admin.cookie, "PUT", "/api/v1/billing/plans/default", PLAN);
    assert.equal(r.status, 200, r.text);
    r = await call(admin.cookie, "PUT", "/api/v1/billing/orgs/nope/plan", PLAN);
    assert.equal(r.status, 404);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/plan");
    assert.deepEqual(r.body, { plan: PLAN, override: false });
    r = await call(admin.cookie, "PUT", "/api/v1/billing/orgs/acme/plan", {
      ...PLAN,
      cpu_core_hour: 200,
    });
    assert.equal(r.status, 200);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/plan");
    assert.deepEqual(r.body, { plan: { ...PLAN, cpu_core_hour: 200 }, override: true });

    // Top-up: a note is required, a top-up is positive; the actor is the admin.
    r = await call(admin.cookie, "POST", "/api/v1/billing/orgs/acme/entries", {
      kind: "top_up",
      amount: 1000,
      note: "",
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.note, r.text);
    r = await call(admin.cookie, "POST", "/api/v1/billing/orgs/acme/entries", {
      kind: "top_up",
      amount: -5,
      note: "x",
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.amount, r.text);
    r = await call(admin.cookie, "POST", "/api/v1/billing/orgs/acme/entries", {
      kind: "top_up",
      amount: 1000,
      note: "invoice 42",
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.actor, `user:${admin.id}`);
    assert.equal(r.body.note, "invoice 42");

    // An app runs two hours: 1 core, 1 GiB → 2.00 + 0.10 per hour under acme's plan.
    await t.services.billingUsage.observe([{
      org_id: acme.id,
      app_id: "app-1",
      service: "web",
      replicas: 1,
      cpu_millis: 1000,
      memory_bytes: GIB,
    }]);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/projection");
    assert.deepEqual(r.body, {
      currency: "EUR",
      per_hour: 210,
      per_day: 5040,
      per_month: 153_300,
      apps: [{ app_id: "app-1", per_hour: 210 }],
    });
    clock.advance(2 * HOUR_MS + 180_000);
    await t.services.billingCycles.run();

    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/balance");
    assert.deepEqual(r.body, {
      balance: 1000 - 420,
      currency: "EUR",
      wallet: { state: "ok", started_at: null, ends_at: null },
    });
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/ledger?limit=2");
    assert.deepEqual(r.body.items.map((e: { kind: string; amount: number }) => e.amount), [
      -210,
      -210,
    ]);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/ledger?limit=2&offset=2");
    assert.deepEqual(r.body.items.map((e: { kind: string }) => e.kind), ["top_up"]);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/ledger?limit=0");
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.limit, r.text);

    r = await call(member.cookie, "GET", `/api/v1/orgs/acme/billing/cycles?from=${start}&limit=1`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.items.length, 1);
    assert.equal(r.body.items[0].hour, start + HOUR_MS, "newest first");
    assert.deepEqual(r.body.items[0].items.map((i: { resource: string }) => i.resource), [
      "cpu",
      "memory",
    ]);
    r = await call(
      member.cookie,
      "GET",
      `/api/v1/orgs/acme/billing/cycles?from=${start}&to=${start}`,
    );
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.from, r.text);

    r = await call(member.cookie, "GET", `/api/v1/orgs/acme/billing/export.csv?from=${start}`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/csv/);
    assert.equal(
      r.text,
      "hour_utc,app_id,resource,quantity,unit,unit_price,amount,currency\r\n" +
        "2026-01-01T00:00:00.000Z,app-1,cpu,3600000,millicore_seconds,200,200,EUR\r\n" +
        `2026-01-01T00:00:00.000Z,app-1,memory,${GIB * 3600},byte_seconds,10,10,EUR\r\n` +
        "2026-01-01T01:00:00.000Z,app-1,cpu,3600000,millicore_seconds,200,200,EUR\r\n" +
        `2026-01-01T01:00:00.000Z,app-1,memory,${GIB * 3600},byte_seconds,10,10,EUR\r\n`,
    );

    // Another organization's billing is invisible, whatever the path.
    for (
      const p of ["balance", "ledger", "cycles", "export.csv", "projection", "plan"]
    ) {
      r = await call(outsider.cookie, "GET", `/api/v1/orgs/acme/billing/${p}`);
      assert.equal(r.status, 404, p);
    }
    r = await call(outsider.cookie, "GET", "/api/v1/orgs/globex/billing/balance");
    assert.equal(r.body.balance, 0);

    // Removing the override bills by the default again.
    r = await call(admin.cookie, "DELETE", "/api/v1/billing/orgs/acme/plan");
    assert.equal(r.status, 204);
    r = await call(member.cookie, "GET", "/api/v1/orgs/acme/billing/plan");
    assert.deepEqual(r.body, { plan: PLAN, override: false });

    const audited = await h.db.selectFrom("audit_log").select(["action", "status"])
      .where("action", "like", "billing.%").orderBy("id").execute();
    assert.deepEqual(audited.map((a) => `${a.action}:${a.status}`), [
      "billing.plan_set:ok",
      "billing.plan_set:ok",
      "billing.top_up:error",
      "billing.top_up:ok",
      "billing.plan_cleared:ok",
    ]);
  },
);
