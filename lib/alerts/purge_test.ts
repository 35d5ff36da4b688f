import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { testApp } from "../../tests/support/app.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { purgeAlertHistory } from "./purge.ts";
import type { AlertsTable } from "../db/schema.ts";

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 0, 1);

dbTest("purgeAlertHistory() drops old resolved alerts and finished deliveries only", async (h) => {
  const clock = manualClock(T0 + 200 * DAY);
  const t = testApp(h, clock);
  await t.user("o@acme.io", { org: "acme", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const db = t.services.db;
  const alert = (id: string, state: "firing" | "resolved", endedDaysAgo: number | null) =>
    ({
      id,
      org_id: org.id,
      rule_id: null,
      rule_name: "r",
      subject: id,
      host_id: null,
      host_name: null,
      container_id: null,
      container_name: null,
      severity: "warning",
      title: id,
      value: null,
      state,
      started_at: clock.now() - 300 * DAY,
      ended_at: endedDaysAgo === null ? null : clock.now() - endedDaysAgo * DAY,
      acknowledged_by: null,
      acknowledged_at: null,
      silenced_until: null,
      muted: 0,
    }) satisfies AlertsTable;
  await db.insertInto("alerts").values([
    alert("00000000-0000-7000-8000-000000000001", "resolved", 120), // old: goes
    alert("00000000-0000-7000-8000-000000000002", "resolved", 10), // recent: stays
    alert("00000000-0000-7000-8000-000000000003", "firing", null), // firing for ages: stays
  ]).execute();
  await db.insertInto("alert_channels").values({
    id: "ch1",
    org_id: org.id,
    name: "c",
    kind: "webhook",
    enabled: 1,
    config: "x",
    summary: "{}",
    created_at: T0,
    updated_at: T0,
  }).execute();
  const delivery = (id: string, status: "pending" | "sent" | "failed", ageDays: number) => ({
    id,
    org_id: org.id,
    alert_id: null,
    channel_id: "ch1",
    event: "firing" as const,
    status,
    attempts: 1,
    last_error: null,
    next_attempt_at: clock.now(),
    claimed_until: null,
    message: "{}",
    created_at: clock.now() - ageDays * DAY,
    sent_at: null,
  });
  await db.insertInto("alert_deliveries").values([
    delivery("d-old-sent", "sent", 100),
    delivery("d-old-failed", "failed", 100),
    delivery("d-old-pending", "pending", 100),
    delivery("d-new", "sent", 1),
  ]).execute();

  assert.deepEqual(await purgeAlertHistory(db, clock.now(), 90), { alerts: 1, deliveries: 2 });
  const left = await db.selectFrom("alerts").select("id").orderBy("id").execute();
  assert.deepEqual(left.map((r) => r.id.slice(-1)), ["2", "3"]);
  const ds = await db.selectFrom("alert_deliveries").select("id").orderBy("id").execute();
  assert.deepEqual(ds.map((r) => r.id), ["d-new", "d-old-pending"]);
  // Idempotent; a shorter retention reaches the recent resolved alert too.
  assert.deepEqual(await purgeAlertHistory(db, clock.now(), 90), { alerts: 0, deliveries: 0 });
  assert.deepEqual(await purgeAlertHistory(db, clock.now(), 5), { alerts: 1, deliveries: 0 });
  // The job is declared with the configured retention.
  const job = t.services.alerts.jobs().find((j) => j.name === "alerts_purge");
  assert.ok(job);
});
