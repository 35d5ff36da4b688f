import assert from "node:assert/strict";
import { createBackoff } from "./backoff.ts";

Deno.test("createBackoff() doubles its bound up to the cap, jitters fully, and resets", () => {
  const top = createBackoff({ baseMs: 1000, capMs: 60_000, random: () => 0.999999 });
  const bounds = Array.from({ length: 9 }, () => top.next());
  assert.deepEqual(bounds, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  top.reset();
  assert.equal(top.next(), 1000);
  // Full jitter: anywhere from (almost) zero up to the bound, never a tight 0 ms loop.
  const low = createBackoff({ random: () => 0 });
  assert.equal(low.next(), 50);
  const mid = createBackoff({ baseMs: 1000, random: () => 0.5 });
  assert.deepEqual([mid.next(), mid.next(), mid.next()], [500, 1000, 2000]);
});
