import assert from "node:assert/strict";
import { heartbeatOf } from "./heartbeat.ts";

Deno.test("heartbeatOf() is unhealthy only past the timeout, or when never heard from", () => {
  assert.deepEqual(heartbeatOf(1000, 31_000, 120_000), {
    at: 1000,
    ageMs: 30_000,
    unhealthy: false,
  });
  assert.equal(heartbeatOf(1000, 121_000, 120_000).unhealthy, false, "at the timeout: not yet");
  assert.equal(heartbeatOf(1000, 121_001, 120_000).unhealthy, true);
  assert.deepEqual(heartbeatOf(null, 5000, 120_000), { at: null, ageMs: null, unhealthy: true });
  assert.equal(heartbeatOf(9000, 5000, 120_000).ageMs, 0, "a clock step back is no negative age");
});
