import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { testServices } from "../../tests/support/services.ts";
import { collectJobs } from "../module.ts";
import { MODULES } from "../../modules.ts";
import { loadConfig } from "../config.ts";

const jobNames = (s: ReturnType<typeof testServices>) =>
  collectJobs(s, MODULES, s as never).map((j) => j.name).filter((n) => n.startsWith("billing"));

dbTest("billing module: its jobs run unless CAPSTAN_BILLING_ENABLED=false", async (h) => {
  const clock = manualClock();
  const on = testServices(h, clock);
  assert.deepEqual(jobNames(on), [
    "billing_usage",
    "billing_facts",
    "billing_cycles",
    "billing_wallet",
  ]);
  assert.deepEqual(jobNames(testServices(h, clock, { CAPSTAN_BILLING_ENABLED: "false" })), []);
  assert.throws(() => loadConfig({ CAPSTAN_BILLING_ENABLED: "maybe" }), /CAPSTAN_BILLING_ENABLED/);

  // Without a cluster nothing runs: the usage job ends every open segment.
  await on.billingUsage.observe([{
    org_id: "o",
    app_id: "a",
    service: "web",
    replicas: 1,
    cpu_millis: 100,
    memory_bytes: 0,
  }]);
  clock.advance(60_000);
  const job = collectJobs(on, MODULES, on as never).find((j) => j.name === "billing_usage")!;
  assert.deepEqual(await job.run(), { opened: 0, closed: 1 });

  // The facts job without a cluster: no app containers, so no egress and no volumes; it records
  // builds and snapshot data (none here) and fails on nothing.
  const facts = collectJobs(on, MODULES, on as never).find((j) => j.name === "billing_facts")!;
  assert.deepEqual(await facts.run(), {
    builds: { recorded: 0 },
    egress: { containers: 0, bytes: 0, raced: 0 },
    storage: { opened: 0, closed: 0, volumes_complete: true },
  });
});
