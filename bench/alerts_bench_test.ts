import assert from "node:assert/strict";
import { benchRulesOverhead } from "./alerts_bench.ts";

Deno.test("benchRulesOverhead() measures both sides on the same batches (small run)", async () => {
  const r = await benchRulesOverhead({ rules: 20, hosts: 20, batchesPerRound: 200, rounds: 2 });
  assert.ok(Number.isFinite(r.overheadPct));
  assert.ok(r.withoutRulesSamplesPerS > 0 && r.withRulesSamplesPerS > 0);
  assert.ok(r.alerts > 0, "the incident in the data raises alerts");
});
