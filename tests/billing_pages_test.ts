/**
 * The billing pages through the whole app on both dialects (no JavaScript): a platform admin sets
 * the default plan on /admin/billing, tops up an org with a note on its Billing page (bad amounts
 * refused by field), members see the balance, projection, billed hours by app, the CSV links and
 * the ledger, then the grace banner with its countdown and the blocked banner; members see no
 * admin form and may not post one; another org's page is a 404.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { HOUR_MS } from "../lib/billing/meter.ts";

const GIB = 2 ** 30;

dbTest(
  "[e2e] billing pages: admin plan and top-up, balance, projection, history, ledger, grace banners, roles",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const t = testApp(h, clock);
    const root = await t.user("root@hub.io", { admin: true });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const eve = await t.user("eve@other.io", { org: "other", role: "owner" });
    const s = t.services;
    const acme = (await s.orgs.bySlug("acme"))!;
    const answer = async (res: Response) => ({
      status: res.status,
      html: await res.text(),
      location: res.headers.get("location"),
    });
    const get = async (path: string, cookie: string) => answer(await t.request(path, { cookie }));
    const post = async (path: string, fields: Record<string, string>, cookie: string) =>
      answer(await t.request(path, { method: "POST", body: new URLSearchParams(fields), cookie }));
    const plan = {
      currency: "EUR",
      cpu_core_hour: "100",
      memory_gib_hour: "10",
      storage_gib_month: "0",
      egress_gib: "0",
      build_minute: "0",
    };

    // The default plan: refused by field, then saved; members may not.
    let r = await get("/admin/billing", root.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /No default plan is set/);
    r = await post(
      "/admin/billing",
      { ...plan, currency: "eur!", cpu_core_hour: "-1" },
      root.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(r.html, /3-letter currency code/);
    r = await post("/admin/billing", plan, member.cookie);
    assert.equal(r.status, 403);
    r = await post("/admin/billing", plan, root.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/admin/billing?done=plan");

    // A top-up with a note; a bad amount is refused on its field.
    r = await post(
      "/o/acme/billing/entries",
      { kind: "top_up", amount: "1.005", note: "x" },
      root.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(r.html, /Must be an amount like 50.00 in EUR/);
    r = await post(
      "/o/acme/billing/entries",
      { kind: "top_up", amount: "5", note: "invoice 7" },
      member.cookie,
    );
    assert.equal(r.status, 403);
    r = await post(
      "/o/acme/billing/entries",
      { kind: "top_up", amount: "5.00", note: "invoice 7" },
      root.cookie,
    );
    assert.equal(r.status, 303, r.html);

    // An app runs three hours at 2.10 EUR an hour: 5.00 − 6.30 leaves −1.30, grace starts.
    await s.billingUsage.observe([{
      org_id: acme.id,
      app_id: "0190aaaa-0000-7000-8000-000000000001",
      service: "web",
      replicas: 2,
      cpu_millis: 1000,
      memory_bytes: GIB / 2,
    }]);
    clock.advance(3 * HOUR_MS + 180_000);
    await s.billingCycles.run();

    r = await get("/o/acme/billing", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /-1\.30 EUR/, "balance");
    assert.match(r.html, /2\.10 EUR/, "per hour");
    assert.match(r.html, /50\.40 EUR/, "per day");
    assert.match(r.html, /1\u202f533\.00 EUR/, "per month");
    assert.match(r.html, /2\.00 core-h/);
    assert.match(r.html, /0190aaaa \(deleted\)/, "an app not in the apps store");
    assert.match(r.html, /invoice 7/);
    assert.match(r.html, /<td data-label="By">root<\/td>/, "the admin by name");
    assert.match(r.html, /<td data-label="By">hourly billing<\/td>/);
    assert.match(r.html, /\/api\/v1\/orgs\/acme\/billing\/export\.csv\?from=/);
    assert.doesNotMatch(r.html, /Top up the wallet/, "members see no admin form");
    assert.doesNotMatch(r.html, /data-wallet/, "no banner before the job ran");

    await s.billingWallet.checkAll();
    clock.advance(HOUR_MS + 30 * 60_000);
    r = await get("/o/acme/billing", member.cookie);
    assert.match(r.html, /data-wallet="grace"/);
    assert.match(r.html, /New deploys are blocked in[^<]*<span data-countdown="\d+">22 h 30 min</);

    clock.advance(23 * HOUR_MS);
    await s.billingWallet.checkAll();
    r = await get("/o/acme/billing", member.cookie);
    assert.match(r.html, /data-wallet="blocked"/);
    assert.match(r.html, /New deploys are blocked:/);

    // The admin sees the forms; a top-up covering the debt lifts the block at once.
    r = await get("/o/acme/billing", root.cookie);
    assert.match(r.html, /Top up the wallet/);
    assert.match(r.html, /This organization&#39;s price plan|This organization's price plan/);
    r = await post(
      "/o/acme/billing/entries",
      { kind: "top_up", amount: "10", note: "paid" },
      root.cookie,
    );
    assert.equal(r.status, 303);
    assert.equal(await s.blocksDeploys(acme.id), undefined);
    r = await get("/o/acme/billing", member.cookie);
    assert.doesNotMatch(r.html, /data-wallet/);
    assert.match(r.html, /8\.70 EUR/);

    // An org's own plan, then back to the default.
    r = await post("/o/acme/billing/plan", { ...plan, cpu_core_hour: "300" }, root.cookie);
    assert.equal(r.status, 303);
    assert.equal((await s.billing.plan(acme.id)).plan.cpu_core_hour, 300);
    r = await post("/o/acme/billing/plan/clear", {}, root.cookie);
    assert.equal(r.status, 303);
    assert.equal((await s.billing.plan(acme.id)).override, false);

    // Another org's billing is not there for eve.
    r = await get("/o/acme/billing", eve.cookie);
    assert.equal(r.status, 404);
    // The nav offers Billing.
    r = await get("/o/other/billing", eve.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="\/o\/other\/billing"/);
  },
);

dbTest(
  "[e2e] billing page: storage, egress and build line items in their priced units",
  async (h) => {
    const H0 = Date.UTC(2026, 0, 1);
    const clock = manualClock(H0);
    const t = testApp(h, clock);
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const s = t.services;
    const acme = (await s.orgs.bySlug("acme"))!;
    await s.billingPlans.set("default", {
      currency: "EUR",
      cpu_core_hour: 0,
      memory_gib_hour: 0,
      storage_gib_month: 7300,
      egress_gib: 10,
      build_minute: 5,
    }, null);
    const app = "0190aaaa-0000-7000-8000-000000000002";
    // The org's snapshot data outside any app: 2 GiB for the whole hour (2 GiB-h = 2/730 GiB-month).
    await s.db.insertInto("billing_storage").values({
      id: "st1",
      org_id: acme.id,
      app_id: "",
      kind: "snapshots",
      bytes: 2 * GIB,
      started_at: H0,
      ended_at: H0 + HOUR_MS,
    }).execute();
    await s.db.insertInto("billing_egress").values({
      org_id: acme.id,
      app_id: app,
      hour: H0,
      bytes: 3.5 * GIB,
    }).execute();
    await s.db.insertInto("billing_builds").values({
      build_id: "b1",
      org_id: acme.id,
      app_id: app,
      started_at: H0,
      finished_at: H0 + 150_000,
      minutes: 3,
      hour: H0,
    }).execute();
    clock.advance(HOUR_MS + 180_000);
    assert.equal((await s.billingCycles.run()).billed, 1);

    const r = await t.request("/o/acme/billing", { cookie: member.cookie });
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /2\.00 GiB-h stored/);
    assert.match(html, /3\.50 GiB/);
    assert.match(html, /3 min/);
    assert.match(html, /\(organization\)/, "data outside any app");
    // 2 GiB-h at 73.00 a GiB-month: 20 minor units; 3.5 GiB × 10 = 35; 3 min × 5 = 15.
    assert.match(html, /0\.20 EUR/);
    assert.match(html, /0\.35 EUR/);
    assert.match(html, /0\.15 EUR/);
  },
);
