import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testServices } from "./support/services.ts";
import { manualClock } from "./support/clock.ts";
import { runTick } from "../lib/jobs/scheduler.ts";
import { collectJobs } from "../lib/module.ts";
import { MODULES } from "../modules.ts";
import type { Services } from "../services.ts";

/** The jobs of every module over `s`, with the audit retention set to `days`. */
const hubJobs = (s: Services, days = 90) =>
  collectJobs({ ...s, config: { ...s.config, auditRetentionDays: days } }, MODULES, s as never);

const DAY = 24 * 3600_000;

dbTest(
  "audit_retention job deletes rows older than the retention, once per hour across replicas",
  async (h) => {
    const clock = manualClock();
    const s = testServices(h, clock);
    const ctx = { actor: { type: "system" as const } };
    await s.audit.record({ ctx, action: "old", status: "ok", durationMs: 0 });
    clock.advance(10 * DAY);
    await s.audit.record({ ctx, action: "recent", status: "ok", durationMs: 0 });
    clock.advance(DAY);
    const jobs = hubJobs(s, 7);
    const job = jobs.find((j) => j.name === "audit_retention")!;
    assert.ok(jobs.every((j) => /^[\w-]+$/.test(j.name)), "Deno.cron accepts the names");
    const ran = await Promise.all(["a", "b"].map((holder) => runTick(h.db, clock, job, holder)));
    assert.deepEqual(ran.sort(), [false, true]);
    assert.deepEqual((await s.audit.list({ limit: 10 })).rows.map((r) => r.action), ["recent"]);
  },
);

dbTest("sessions_purge_expired job removes expired sessions only", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock);
  const u = await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
  const old = await s.sessions.create(u.id, {});
  clock.advance(15 * DAY);
  const fresh = await s.sessions.create(u.id, {});
  const job = hubJobs(s).find((j) => j.name === "sessions_purge_expired")!;
  assert.equal(await job.run(), 1);
  assert.equal(await s.sessions.resolve(old), undefined);
  assert.ok(await s.sessions.resolve(fresh));
});
