import assert from "node:assert/strict";
import { dbTest, dbUrlTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { mulberry32 } from "../../tests/support/random.ts";
import { openDatabase } from "../db/mod.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Db } from "../db/mod.ts";
import { createUsage, type ServiceUsage } from "./usage.ts";
import { createPlans } from "./plans.ts";
import { createCycles, type CycleReport } from "./cycles.ts";
import { createLedger } from "./ledger.ts";
import { CORE_HOUR, GIB_HOUR, HOUR_MS, priceOf } from "./meter.ts";

const GIB = 2 ** 30;

/** Per org and resource, what the line items billed (quantities summed exactly). */
async function billed(db: Db) {
  const rows = await db.selectFrom("billing_line_items")
    .select(["org_id", "resource", "quantity", "unit_price", "amount"]).execute();
  const out = new Map<string, bigint>();
  for (const r of rows) {
    const k = `${r.org_id}/${r.resource}`;
    out.set(k, (out.get(k) ?? 0n) + BigInt(r.quantity));
    const unit = r.resource === "cpu" ? CORE_HOUR : GIB_HOUR;
    assert.equal(
      BigInt(Number(r.amount)),
      priceOf(BigInt(r.quantity), Number(r.unit_price), unit),
      "each amount is its quantity priced and rounded once",
    );
  }
  return out;
}

/** Every org-hour's cycles: each is there once, and its total is its items' sum. */
async function checkCycles(db: Db) {
  const cycles = await db.selectFrom("billing_cycles").selectAll().execute();
  const seen = new Set<string>();
  for (const c of cycles) {
    const k = `${c.org_id}@${Number(c.hour)}`;
    assert.ok(!seen.has(k), `${k} billed twice`);
    seen.add(k);
    const items = await db.selectFrom("billing_line_items").select("amount")
      .where("cycle_id", "=", c.id).execute();
    assert.equal(Number(c.total), items.reduce((s, i) => s + Number(i.amount), 0));
  }
  return { cycles, hours: seen };
}

/**
 * One random timeline: orgs start, scale, resize and stop app services; usage is observed after
 * each change (as the billing_usage job would), the billing run goes at random moments, sometimes
 * two at once, and once the hub is down for 3 h (changes happen, nothing is observed or billed).
 * The ground truth integrates the observed picture in memory, independently of the database.
 */
async function timeline(db: Db, seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const clock = manualClock(Date.UTC(2026, 0, 1, 0, int(60), int(60), int(1000)));
  const usage = createUsage(db, clock);
  const plans = createPlans(db, clock);
  const ledger = createLedger(db, clock);
  const base = { storage_gib_month: 0, egress_gib: 0, build_minute: 0 };
  await plans.set(
    "default",
    { currency: "EUR", cpu_core_hour: 3, memory_gib_hour: 2, ...base },
    "u",
  );
  await plans.set("o2", { currency: "EUR", cpu_core_hour: 7, memory_gib_hour: 1, ...base }, "u");
  const plan = (org: string) => plans.forOrg(org);
  const runners = [createCycles({ db, clock, plan }), createCycles({ db, clock, plan })];
  const orgs = ["o1", "o2", "o3"];

  const real = new Map<string, ServiceUsage>();
  let seen = new Map<string, ServiceUsage>();
  let lastS = Math.floor(clock.now() / 1000);
  const truth = new Map<string, bigint>();
  const truthHours = new Set<string>();
  const add = (k: string, v: bigint) => truth.set(k, (truth.get(k) ?? 0n) + v);

  const observe = async () => {
    const nowS = Math.floor(clock.now() / 1000);
    for (const u of seen.values()) {
      const secs = BigInt(nowS - lastS);
      add(`${u.org_id}/cpu`, BigInt(u.replicas * u.cpu_millis) * secs);
      add(`${u.org_id}/memory`, BigInt(u.replicas) * BigInt(u.memory_bytes) * secs);
      for (let hs = Math.floor(lastS / 3600); hs * 3600 < nowS; hs++) {
        truthHours.add(`${u.org_id}@${hs * HOUR_MS}`);
      }
    }
    lastS = nowS;
    await usage.observe([...real.values()]);
    seen = new Map([...real].filter(([, u]) => u.replicas > 0).map(([k, u]) => [k, { ...u }]));
  };
  const change = () => {
    const org = orgs[int(orgs.length)];
    const app = `${org}-app${int(4)}`;
    const service = ["web", "worker"][int(2)];
    const k = `${app}/${service}`;
    const cur = real.get(k);
    const op = cur ? ["scale", "resize", "stop", "remove"][int(4)] : "start";
    const resources = () => ({
      cpu_millis: [0, 100, 250, 500, 1000, 1500, 4000][int(7)],
      memory_bytes: rnd() < 0.2 ? 0 : (1 + int(8192)) * (1 << 20),
    });
    if (op === "start") {
      real.set(k, { org_id: org, app_id: app, service, replicas: 1 + int(5), ...resources() });
    } else if (op === "scale") real.set(k, { ...cur!, replicas: int(6) });
    else if (op === "resize") real.set(k, { ...cur!, ...resources() });
    else if (op === "stop") real.set(k, { ...cur!, replicas: 0 });
    else real.delete(k);
  };
  const runJob = async () => {
    if (rnd() < 0.4) await Promise.all(runners.map((r) => r.run()));
    else await runners[int(2)].run();
  };

  for (let step = 0; step < 120; step++) {
    clock.advance(1000 + int(40 * 60_000));
    if (step === 60) {
      // The hub is down for 3 h: Swarm changes, nobody observes or bills.
      for (let i = 0; i < 5; i++) {
        clock.advance(36 * 60_000);
        change();
      }
      continue;
    }
    change();
    await observe();
    if (rnd() < 0.3) await runJob();
  }
  real.clear();
  await observe();
  clock.advance(2 * HOUR_MS + 5 * 60_000);
  for (;;) {
    const r = await Promise.all(runners.map((x) => x.run()));
    if (!r.some((x) => x.more || x.billed)) break;
  }

  const got = await billed(db);
  for (const k of new Set([...truth.keys(), ...got.keys()])) {
    assert.equal(got.get(k) ?? 0n, truth.get(k) ?? 0n, `seed ${seed}: billed ${k}`);
  }
  const { cycles, hours } = await checkCycles(db);
  assert.deepEqual([...hours].sort(), [...truthHours].sort(), `seed ${seed}: billed hours`);
  for (const org of orgs) {
    const total = cycles.filter((c) => c.org_id === org).reduce((s, c) => s + Number(c.total), 0);
    assert.equal(await ledger.balance(org), -total, `seed ${seed}: ${org}'s charges`);
    assert.equal(await ledger.cachedBalance(org), -total);
  }
  return { cycles: cycles.length, truth };
}

dbTest(
  "billing run: random timelines bill exactly the observed usage, each org-hour once",
  async (h) => {
    for (const seed of [1, 2, 3]) {
      const r = await timeline(h.db, seed);
      assert.ok(r.cycles > 50, `seed ${seed}: a timeline long enough to mean something`);
      for (
        const t of [
          "billing_line_items",
          "billing_cycles",
          "billing_usage",
          "billing_ledger",
        ] as const
      ) {
        await h.db.deleteFrom(t).execute();
      }
      await h.db.deleteFrom("billing_wallets").execute();
    }
  },
);

dbTest("billing run: catches up missed hours in bounded runs, from the first usage", async (h) => {
  const clock = manualClock(Date.UTC(2026, 0, 1, 10, 30));
  const usage = createUsage(h.db, clock);
  const plans = createPlans(h.db, clock);
  await plans.set("default", {
    currency: "USD",
    cpu_core_hour: 10,
    memory_gib_hour: 0,
    storage_gib_month: 0,
    egress_gib: 0,
    build_minute: 0,
  }, null);
  const cycles = createCycles({
    db: h.db,
    clock,
    plan: (o) => plans.forOrg(o),
    maxHoursPerRun: 4,
  });
  const u = { org_id: "o", app_id: "a", service: "web", cpu_millis: 500, memory_bytes: GIB };
  await usage.observe([{ ...u, replicas: 2 }]);
  clock.advance(31 * 60_000);
  assert.deepEqual(
    await cycles.run(),
    { billed: 0, raced: 0, charged: 0, more: false },
    "11:01: the 10h hour has not settled",
  );
  clock.advance(39 * 60_000);
  // 10:30–11:00 billed at 11:40: 2 × 0.5 core × 0.5 h × 10 = 5.
  assert.deepEqual(await cycles.run(), { billed: 1, raced: 0, charged: 5, more: false });
  clock.advance(10 * HOUR_MS);
  assert.deepEqual(await cycles.run(), { billed: 4, raced: 0, charged: 40, more: true });
  assert.deepEqual(await cycles.run(), { billed: 4, raced: 0, charged: 40, more: true });
  assert.deepEqual(await cycles.run(), { billed: 2, raced: 0, charged: 20, more: false });
  await usage.observe([]);
  clock.advance(5 * HOUR_MS);
  // 21:00–21:40: 2 × 0.5 core × 2400 s × 10 / 3600 = 6.67 → 7.
  assert.deepEqual(await cycles.run(), { billed: 1, raced: 0, charged: 7, more: false });
  assert.equal((await cycles.run()).billed, 0, "nothing runs: no more hours");
  // Stopped for 30 days (720 hours, far past the bound of 4 a run), then started again: the next
  // run goes straight to the new usage.
  clock.advance(30 * 24 * HOUR_MS);
  await usage.observe([{ ...u, replicas: 1 }]);
  clock.advance(HOUR_MS);
  // 02:40–03:00 on day 31: 1 × 0.5 core × 1200 s × 10 / 3600 = 1.67 → 2.
  assert.deepEqual(await cycles.run(), { billed: 1, raced: 0, charged: 2, more: false });
  const ledger = createLedger(h.db, clock);
  assert.equal(await ledger.balance("o"), -(5 + 40 + 40 + 20 + 7 + 2));
});

dbUrlTest("billing run: two hubs on their own connections bill each org-hour once", async (t) => {
  if (t.dialect === "sqlite") {
    const m = openDatabase(t.url);
    await migrateToLatest(m.db);
    await m.close();
  }
  const a = openDatabase(t.url);
  try {
    const start = Date.UTC(2026, 0, 1);
    const clock = manualClock(start);
    const usage = createUsage(a.db, clock);
    const plans = createPlans(a.db, clock);
    await plans.set("default", {
      currency: "EUR",
      cpu_core_hour: 1000,
      memory_gib_hour: 100,
      storage_gib_month: 0,
      egress_gib: 0,
      build_minute: 0,
    }, null);
    await usage.observe(
      Array.from({ length: 20 }, (_, i) => ({
        org_id: `org${String(i).padStart(2, "0")}`,
        app_id: `app${i}`,
        service: "web",
        replicas: 1 + (i % 3),
        cpu_millis: 250,
        memory_bytes: GIB,
      })),
    );
    clock.advance(30 * HOUR_MS + 5 * 60_000);
    // Hub A runs twice at once on its connection; hub B, in another thread, twice on its own.
    const cyclesA = createCycles({ db: a.db, clock, plan: (o) => plans.forOrg(o) });
    const worker = new Worker(new URL("../../tests/support/billing_worker.ts", import.meta.url), {
      type: "module",
    });
    const fromB = new Promise<{ reports?: CycleReport[]; error?: string }>((resolve) =>
      worker.onmessage = (e) => resolve(e.data)
    );
    worker.postMessage({ url: t.url, now: clock.now(), runs: 2 });
    const [r1, r2, b2] = await Promise.all([cyclesA.run(), cyclesA.run(), fromB]);
    assert.ok(b2.reports, b2.error);
    const reports = [r1, r2, ...b2.reports];
    const billedN = reports.reduce((s, r) => s + r.billed, 0);
    assert.equal(billedN, 20 * 30, JSON.stringify(reports));
    const counts = await a.db.selectFrom("billing_cycles").select("org_id")
      .select((eb) => eb.fn.countAll().as("n")).groupBy("org_id").execute();
    assert.equal(counts.length, 20);
    assert.ok(counts.every((c) => Number(c.n) === 30));
    const charges = await a.db.selectFrom("billing_ledger").select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    assert.equal(Number(charges.n), 600, "one charge per cycle");
    const ledger = createLedger(a.db, clock);
    // org00: 1 replica × 0.25 core × 1000 + 1 GiB × 100 = 350 per hour.
    assert.equal(await ledger.balance("org00"), -350 * 30);
    assert.equal(await ledger.cachedBalance("org00"), -350 * 30);
  } finally {
    await a.close();
  }
});
