import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { AppSpec } from "../apps/spec.ts";
import { Conflict } from "../errors.ts";
import { nextLevel, pctOf, type QuotaNotice } from "./watch.ts";

const HOUR = 3_600_000;

const spec = (cpus?: number) =>
  AppSpec.parse({
    services: [{
      name: "web",
      image: "capstan-test/busybox:latest",
      replicas: 1,
      resources: cpus ? { reservations: { cpus } } : {},
    }],
  });

type Services = ReturnType<typeof testServices>;

const newApp = async (s: Services, org: string, name: string, cpus?: number) =>
  s.apps.store.create(org, { name, spec: spec(cpus) }, null, await s.quotaAdmission.prepare(org));

const limit = (s: Services, org: string, value: number) =>
  s.quotas.setOverride(SYSTEM_CTX, org, "cpu_millis", { value, reason: "test" });

const brief = (n: QuotaNotice) => n.change === "blocked" ? "blocked" : `${n.from}→${n.to}`;

Deno.test("nextLevel: up at once, down only 5 points below a threshold, over clears at the limit", () => {
  assert.equal(nextLevel("ok", 79, 100), "ok");
  assert.equal(nextLevel("ok", 80, 100), "warning");
  assert.equal(nextLevel("ok", 95, 100), "critical");
  assert.equal(nextLevel("ok", 100, 100), "full");
  assert.equal(nextLevel("ok", 101, 100), "over");
  assert.equal(nextLevel("warning", 76, 100), "warning");
  assert.equal(nextLevel("warning", 74, 100), "ok");
  assert.equal(nextLevel("critical", 86, 100), "critical");
  assert.equal(nextLevel("critical", 84, 100), "warning");
  assert.equal(nextLevel("critical", 10, 100), "ok");
  assert.equal(nextLevel("full", 96, 100), "full");
  assert.equal(nextLevel("over", 100, 100), "full");
  assert.equal(nextLevel("over", 91, 100), "critical");
  assert.equal(nextLevel("over", 50, 100), "ok");
  assert.equal(nextLevel("ok", 0, 0), "ok");
  assert.equal(nextLevel("ok", 1, 0), "over");
  assert.equal(pctOf(2 ** 50, 1), 1_000_000, "capped to fit the integer column");
});

dbTest(
  "quota watch: 80/90/100 % and over notify once each, hysteresis, grace → block, limit back → clear",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const s = testServices(h, clock, { CAPSTAN_QUOTA_GRACE_HOURS: "72" });
    const notices: QuotaNotice[] = [];
    s.events.on("quotas.usage", (n) => void notices.push(n));
    const org = await insertOrg(h.db, "acme");
    await limit(s, org, 2000);
    await newApp(s, org, "api", 0.9); // 900 millicores reserved
    const told = async () => (await s.quotaWatch.check(org)).map(brief);

    assert.deepEqual(await told(), [], "45 %: stored, nothing to tell");
    assert.equal((await s.quotaWatch.standings(org)).cpu_millis?.level, "ok");
    await limit(s, org, 1100); // 81 %
    const warnedAt = clock.now();
    assert.deepEqual(await told(), ["ok→warning"]);
    assert.deepEqual(await told(), [], "told once");
    // Hovering around 80 %: 76 % keeps the warning (it clears under 75 %), 81 % is not told again.
    clock.advance(30_000);
    await limit(s, org, 1180);
    assert.deepEqual(await told(), []);
    await limit(s, org, 1100);
    assert.deepEqual(await told(), []);
    const w = (await s.quotaWatch.standings(org)).cpu_millis!;
    assert.deepEqual([w.level, w.pct, w.since], ["warning", 81, warnedAt]);

    await limit(s, org, 1000); // 90 %
    assert.deepEqual(await told(), ["warning→critical"]);
    await limit(s, org, 900); // 100 %
    assert.deepEqual(await told(), ["critical→full"]);
    assert.deepEqual(await told(), []);

    // A limit lowered below what runs: a violation, its grace period starts; deploys still pass.
    await limit(s, org, 800);
    const overAt = clock.now();
    assert.deepEqual(await told(), ["full→over"]);
    const o = (await s.quotaWatch.standings(org)).cpu_millis!;
    assert.deepEqual([o.level, o.since, o.grace_ends_at, o.blocked], [
      "over",
      overAt,
      overAt + 72 * HOUR,
      false,
    ]);
    assert.equal(await s.quotas.blocked(org), undefined);
    await newApp(s, org, "static"); // reserves nothing: admitted during grace

    // The grace period ends: blocked from that instant (before the job), told once by the job.
    clock.advance(72 * HOUR - 1);
    assert.equal(await s.quotas.blocked(org), undefined);
    assert.deepEqual(await told(), []);
    clock.advance(1);
    assert.match(
      (await s.quotas.blocked(org))!,
      /CPU reserved.*above its limit.*grace period ended/,
    );
    await assert.rejects(
      () => newApp(s, org, "refused"),
      (e: unknown) => e instanceof Conflict && e.code === "deploys_blocked",
    );
    assert.deepEqual(await told(), ["blocked"]);
    assert.deepEqual(await told(), []);
    assert.equal((await s.quotaWatch.standings(org)).cpu_millis?.blocked, true);

    // The limit raised back: deploys pass at once; the job clears the violation (90 % → critical).
    await limit(s, org, 1000);
    assert.equal(await s.quotas.blocked(org), undefined);
    await newApp(s, org, "admitted");
    assert.deepEqual(await told(), ["over→critical"]);
    const c = (await s.quotaWatch.standings(org)).cpu_millis!;
    assert.deepEqual([c.level, c.grace_ends_at, c.blocked], ["critical", null, false]);
    // Down with hysteresis: 86 % stays critical, 78 % is a warning, 72 % clears it.
    await limit(s, org, 1040);
    assert.deepEqual(await told(), []);
    await limit(s, org, 1150);
    assert.deepEqual(await told(), ["critical→warning"]);
    await limit(s, org, 1250);
    assert.deepEqual(await told(), ["warning→ok"]);
    // No limit at all: nothing more to tell.
    await s.quotas.clearOverride(SYSTEM_CTX, org, "cpu_millis");
    assert.deepEqual(await told(), []);

    assert.deepEqual(notices.map(brief), [
      "ok→warning",
      "warning→critical",
      "critical→full",
      "full→over",
      "blocked",
      "over→critical",
      "critical→warning",
      "warning→ok",
    ]);
    const audited = await h.db.selectFrom("audit_log").select(["action", "target_name"])
      .where("org_id", "=", org).where("actor_type", "=", "system")
      .where("action", "in", [
        "quota.violation_started",
        "quota.deploys_blocked",
        "quota.violation_ended",
      ]).orderBy("id").execute();
    assert.deepEqual(audited.map((a) => `${a.action} ${a.target_name}`), [
      "quota.violation_started cpu_millis",
      "quota.deploys_blocked cpu_millis",
      "quota.violation_ended cpu_millis",
    ]);
  },
);

dbTest("quota watch: two replicas checking at once tell each change once", async (h) => {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const a = testServices(h, clock, { CAPSTAN_QUOTA_GRACE_HOURS: "1" });
  const b = testServices(h, clock, { CAPSTAN_QUOTA_GRACE_HOURS: "1" });
  const notices: string[] = [];
  for (const s of [a, b]) s.events.on("quotas.usage", (n) => void notices.push(brief(n)));
  const org = await insertOrg(h.db, "acme");
  await a.quotas.setDefaults(SYSTEM_CTX, { apps: 10 });
  for (let i = 0; i < 8; i++) await newApp(a, org, `app-${i}`);
  const both = () => Promise.all([a.quotaWatch.checkAll(), b.quotaWatch.checkAll()]);
  await both(); // the first rows, inserted by one of them
  await newApp(a, org, "app-8"); // 90 %
  await both();
  await a.quotas.setDefaults(SYSTEM_CTX, { apps: 8 }); // over
  await both();
  clock.advance(HOUR);
  await both(); // grace over: blocked
  await both();
  assert.deepEqual(notices, ["ok→warning", "warning→critical", "critical→over", "blocked"]);
});

dbTest("quota watch: a grace period of 0 blocks as soon as use passes the limit", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock, { CAPSTAN_QUOTA_GRACE_HOURS: "0" });
  const org = await insertOrg(h.db, "acme");
  await newApp(s, org, "one");
  await newApp(s, org, "two");
  await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 1, reason: "downgrade" });
  assert.deepEqual((await s.quotaWatch.check(org)).map(brief), ["ok→over", "blocked"]);
  assert.match((await s.quotas.blocked(org))!, /Apps uses 2 apps, above its limit of 1 app/);
  // The limit raised back: the use fits again and the block ends at once.
  await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 2, reason: "restored" });
  assert.equal(await s.quotas.blocked(org), undefined);
  assert.deepEqual((await s.quotaWatch.check(org)).map(brief), ["over→full"]);
});

dbTest(
  "quota history: one row per org, resource and hour with the hour's maximum; 90 days kept",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1, 10, 0, 0));
    const s = testServices(h, clock);
    const org = (await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" })).id;
    await limit(s, org, 1000);
    const a = await newApp(s, org, "a", 0.2);
    await s.quotaWatch.checkAll(); // 200 at 10:00
    await newApp(s, org, "b", 0.3);
    clock.advance(30_000);
    await s.quotaWatch.checkAll(); // 500 at 10:00:30: the hour's maximum
    await s.apps.store.update(a, { desired_state: "stopped" });
    clock.advance(30_000);
    await s.quotaWatch.checkAll(); // 300: the hour's maximum stays 500
    clock.advance(HOUR);
    await limit(s, org, 800);
    await s.quotaWatch.checkAll(); // 300 of 800 in the next hour
    const hist = await s.quotaWatch.history(org, 0);
    const t0 = Date.UTC(2026, 0, 1, 10);
    assert.deepEqual(hist.cpu_millis, [
      { hour: t0, max_used: 500, limit: 1000 },
      { hour: t0 + HOUR, max_used: 300, limit: 800 },
    ]);
    // Resources without a limit or a standing are not recorded.
    assert.equal(hist.memory_bytes, undefined);
    // 90 days later (and an hour since the last prune), the first hours are pruned.
    clock.advance(90 * 24 * HOUR - 30 * 60_000);
    await s.quotaWatch.checkAll();
    const after = (await s.quotaWatch.history(org, 0)).cpu_millis!.map((p) => p.hour);
    assert.equal(after.includes(t0), false);
    assert.equal(after.length, 2, "the second old hour (within 90 days of now) and the new one");
  },
);
