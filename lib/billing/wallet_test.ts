import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import type { WalletNotice } from "./wallet.ts";
import { HOUR_MS } from "./meter.ts";
import { AppSpec } from "../apps/spec.ts";
import { Conflict } from "../errors.ts";

const GIB = 2 ** 30;

dbTest(
  "wallet: charge with insufficient funds → grace → halfway → block → top-up → unblock",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const s = testServices(h, clock, { CAPSTAN_BILLING_GRACE_HOURS: "24" });
    const notices: WalletNotice[] = [];
    s.events.on("billing.wallet", (n) => void notices.push(n));
    const org = (await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" })).id;
    await s.billingPlans.set("default", {
      currency: "EUR",
      cpu_core_hour: 100, // 1.00 EUR per core-hour
      memory_gib_hour: 10,
      storage_gib_month: 0,
      egress_gib: 0,
      build_minute: 0,
    }, null);
    // 5.00 EUR in the wallet, then 2 cores and 1 GiB run: 2.10 EUR an hour.
    await s.billing.move(SYSTEM_CTX, org, { kind: "top_up", amount: 500, note: "start" });
    await s.billingUsage.observe([{
      org_id: org,
      app_id: "app-a",
      service: "web",
      replicas: 2,
      cpu_millis: 1000,
      memory_bytes: GIB / 2,
    }]);
    assert.equal((await s.billing.projection(org)).per_hour, 210);

    // Two billed hours: 500 − 420 = 80, still fine.
    clock.advance(2 * HOUR_MS + 180_000);
    await s.billingCycles.run();
    assert.equal(await s.billingLedger.balance(org), 80);
    assert.deepEqual(await s.billingWallet.checkAll(), { orgs: 0, transitions: 0 });
    assert.equal(await s.blocksDeploys(org), undefined);

    // The third hour's charge cannot be covered: grace starts, once, however often it is checked.
    clock.advance(HOUR_MS);
    await s.billingCycles.run();
    assert.equal(await s.billingLedger.balance(org), -130);
    const graceStart = clock.now();
    assert.deepEqual(await s.billingWallet.check(org), ["grace_started"]);
    assert.deepEqual(await s.billingWallet.check(org), []);
    assert.deepEqual(await s.billingWallet.checkAll(), { orgs: 1, transitions: 0 });
    assert.deepEqual(await s.billingWallet.standing(org), {
      state: "grace",
      started_at: graceStart,
      ends_at: graceStart + 24 * HOUR_MS,
    });
    assert.equal(await s.blocksDeploys(org), undefined, "grace still deploys");

    // Halfway: one notice.
    clock.advance(12 * HOUR_MS - 1);
    assert.deepEqual(await s.billingWallet.check(org), []);
    clock.advance(1);
    assert.deepEqual(await s.billingWallet.check(org), ["grace_halfway"]);
    assert.deepEqual(await s.billingWallet.check(org), []);

    // The end: blocked (blocksDeploys says so from the instant grace ends, before the job runs).
    clock.advance(12 * HOUR_MS);
    assert.match((await s.blocksDeploys(org))!, /grace period ended .*top-up/);
    assert.equal((await s.billingWallet.standing(org)).state, "blocked");
    // …and the apps' admission (through the quotas module) refuses a new app for it.
    const newApp = async (name: string) =>
      s.apps.store.create(
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
    await assert.rejects(
      () => newApp("refused"),
      (e: unknown) => e instanceof Conflict && e.code === "deploys_blocked",
    );
    assert.deepEqual(await s.billingWallet.checkAll(), { orgs: 1, transitions: 1 });
    assert.deepEqual(await s.billingWallet.check(org), []);

    // A top-up that leaves the balance below zero does not end it; one that covers it does, at once.
    await s.billing.move(SYSTEM_CTX, org, { kind: "top_up", amount: 100, note: "not enough" });
    assert.equal((await s.billingWallet.standing(org)).state, "blocked");
    const balance = await s.billingLedger.balance(org);
    assert.ok(balance < 0);
    await s.billing.move(SYSTEM_CTX, org, { kind: "top_up", amount: -balance, note: "paid" });
    assert.equal(await s.billingLedger.balance(org), 0);
    assert.equal(await s.blocksDeploys(org), undefined);
    await newApp("admitted");
    assert.deepEqual(await s.billingWallet.standing(org), {
      state: "ok",
      started_at: null,
      ends_at: null,
    });
    assert.deepEqual(await s.billingWallet.checkAll(), { orgs: 0, transitions: 0 });

    assert.deepEqual(notices.map((n) => n.transition), [
      "grace_started",
      "grace_halfway",
      "blocked",
      "recovered",
    ]);
    const audited = await h.db.selectFrom("audit_log").select(["action", "actor_type"])
      .where("org_id", "=", org).where("action", "like", "billing.%").orderBy("id").execute();
    assert.deepEqual(audited.map((a) => a.action), [
      "billing.top_up",
      "billing.grace_started",
      "billing.grace_halfway",
      "billing.deploys_blocked",
      "billing.top_up",
      "billing.top_up",
      "billing.grace_ended",
    ]);
    // The money moved only by entries: the cache equals the ledger's sum.
    assert.equal(await s.billingLedger.cachedBalance(org), 0);
  },
);

dbTest("wallet: two replicas checking at once make each transition once", async (h) => {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const a = testServices(h, clock, { CAPSTAN_BILLING_GRACE_HOURS: "2" });
  const b = testServices(h, clock, { CAPSTAN_BILLING_GRACE_HOURS: "2" });
  const notices: string[] = [];
  for (const s of [a, b]) s.events.on("billing.wallet", (n) => void notices.push(n.transition));
  await a.billingLedger.append({
    org_id: "o",
    kind: "adjustment",
    amount: -5,
    currency: "EUR",
    actor: "system:test",
  });
  for (const step of [0, HOUR_MS, HOUR_MS]) {
    clock.advance(step);
    await Promise.all([a.billingWallet.checkAll(), b.billingWallet.checkAll()]);
  }
  assert.deepEqual(notices, ["grace_started", "grace_halfway", "blocked"]);
});

dbTest("wallet: a grace period of 0 blocks at once", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock, { CAPSTAN_BILLING_GRACE_HOURS: "0" });
  await s.billingLedger.append({
    org_id: "o",
    kind: "adjustment",
    amount: -1,
    currency: "EUR",
    actor: "system:test",
  });
  assert.deepEqual(await s.billingWallet.check("o"), ["grace_started", "blocked"]);
  assert.ok(await s.blocksDeploys("o"));
});
