import assert from "node:assert/strict";
import { billingRuns } from "./billing_bench.ts";

Deno.test("billingRuns() bills every org's hour, then the 24 missed ones", async () => {
  const { hour, catchUp } = await billingRuns({ orgs: 3, apps: 2 });
  assert.equal(hour.report.billed, 3);
  assert.ok(hour.report.charged > 0);
  assert.equal(catchUp.report.billed, 3 * 24);
  assert.equal(catchUp.report.more, false);
});
