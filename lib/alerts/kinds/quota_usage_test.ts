import assert from "node:assert/strict";
import { quotaUsage } from "./quota_usage.ts";
import type { QuotaNotice } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const notice = (
  from: QuotaNotice["from"],
  to: QuotaNotice["to"],
  since: number,
  o: Partial<QuotaNotice> = {},
): QuotaNotice => ({
  org_id: "o1",
  resource: "cpu_millis",
  change: "level",
  from,
  to,
  used: 900,
  limit: 1000,
  pct: 90,
  since,
  grace_ends_at: null,
  ...o,
});

Deno.test("quota_usage: the warning rule hears 80 %, the critical one 90 %, full, over and blocked, once each", () => {
  const warn = rule({ name: "80", kind: "event", event: "quota_usage", severity: "warning" }, "rw");
  const crit = rule(
    { name: "90", kind: "event", event: "quota_usage", severity: "critical" },
    "rc",
  );
  const h = harness([warn, crit]);
  const feed = (n: QuotaNotice) => {
    for (const r of [warn, crit]) quotaUsage.quotaUsage!(h.at(n.since + 1), r, n);
  };
  const told: string[] = [];
  const steps: QuotaNotice[] = [
    notice("ok", "warning", T0, { used: 800, pct: 80 }),
    notice("warning", "critical", T0 + 10),
    notice("critical", "full", T0 + 20, { used: 1000, pct: 100 }),
    notice("full", "over", T0 + 30, { limit: 800, pct: 112, grace_ends_at: T0 + 30 + 72 * 3600e3 }),
    notice("over", "over", T0 + 30, { change: "blocked", limit: 800, pct: 112 }),
    notice("over", "critical", T0 + 40),
    notice("critical", "warning", T0 + 50, { used: 780, pct: 78 }),
    notice("warning", "ok", T0 + 60, { used: 700, pct: 70 }),
  ];
  for (const n of steps) {
    feed(n);
    const ops = h.take();
    assert.equal(ops.length, 1, `${n.from}→${n.to} (${n.change}) told by one rule: ${ops}`);
    told.push(ops[0].split(" ")[1]);
    // Heard again (a replay): not told twice.
    feed(n);
    assert.deepEqual(h.take(), []);
  }
  assert.deepEqual(told, [
    "quota/cpu_millis/warning",
    "quota/cpu_millis/critical",
    "quota/cpu_millis/full",
    "quota/cpu_millis/over",
    "quota/cpu_millis/blocked",
    "quota/cpu_millis/critical",
    "quota/cpu_millis/warning",
    "quota/cpu_millis/ok",
  ]);
  // The next crossing of 80 % is told again.
  feed(notice("ok", "warning", T0 + 100, { used: 800, pct: 80 }));
  assert.equal(h.take().length, 1);
});

Deno.test("quota_usage: titles name the level and the resource, details the figures", async () => {
  const crit = rule({ name: "90", kind: "event", event: "quota_usage", severity: "critical" });
  const h = harness([crit]);
  quotaUsage.quotaUsage!(h.at(T0), crit, notice("warning", "critical", T0));
  let info = (await lastInfo(h.ops))!;
  assert.equal(info.title, "Quota at 90 %: CPU reserved by running services");
  assert.match(info.detail!, /0\.90 CPU of 1 CPU \(90 %\)/);
  quotaUsage.quotaUsage!(
    h.at(T0 + 1),
    crit,
    notice("full", "over", T0 + 1, {
      limit: 800,
      pct: 112,
      grace_ends_at: Date.UTC(2026, 0, 4, 12),
    }),
  );
  info = (await lastInfo(h.ops))!;
  assert.equal(info.title, "Quota exceeded: CPU reserved by running services");
  assert.match(info.detail!, /blocked at 2026-01-04 12:00 UTC/);
});

Deno.test("quota_usage rules are organization-wide", () => {
  assertOrgOnly("quota_usage");
});

Deno.test("quota_usage: apps stopped by the violation action, one critical notice per pass", async () => {
  const warn = rule({ name: "80", kind: "event", event: "quota_usage", severity: "warning" }, "rw");
  const crit = rule({ name: "90", kind: "event", event: "quota_usage", severity: "critical" });
  const h = harness([warn, crit]);
  const n = notice("over", "over", T0, {
    change: "apps_stopped",
    limit: 800,
    pct: 112,
    apps: ["young", "old"],
    at: T0 + 5,
  });
  for (const r of [warn, crit]) quotaUsage.quotaUsage!(h.at(T0 + 6), r, n);
  const info = (await lastInfo(h.ops))!;
  assert.equal(info.title, "Quota exceeded: apps stopped (CPU reserved by running services)");
  assert.match(info.detail!, /Stopped, lowest priority first: young, old\./);
  assert.equal(h.take().length, 1, "the critical rule only");
  // The same pass heard again: not told twice; a later pass is.
  quotaUsage.quotaUsage!(h.at(T0 + 7), crit, n);
  assert.deepEqual(h.take(), []);
  quotaUsage.quotaUsage!(h.at(T0 + 20), crit, { ...n, apps: ["more"], at: T0 + 19 });
  assert.equal(h.take().length, 1);
});
