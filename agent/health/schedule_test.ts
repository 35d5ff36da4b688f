import assert from "node:assert/strict";
import { nextSlot, phaseOf, slotAtOrAfter } from "./schedule.ts";

Deno.test("phaseOf() is stable and spreads ids over the interval", () => {
  const id = "0190c7c2-7a8b-7c6d-9e0f-123456789abc";
  assert.equal(phaseOf(id, 10_000), phaseOf(id, 10_000));
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 1000; i++) buckets[Math.floor(phaseOf(crypto.randomUUID(), 10_000) / 1000)]++;
  // 1000 ids over 10 one-second buckets: each gets roughly 100, none is empty or crowded.
  for (const b of buckets) assert.ok(b > 50 && b < 150, `bucket of ${b}`);
});

Deno.test("slotAtOrAfter() lands on the grid at or after the bound", () => {
  assert.equal(slotAtOrAfter(10_000, 300, 1000), 10_300);
  assert.equal(slotAtOrAfter(10_300, 300, 1000), 10_300);
  assert.equal(slotAtOrAfter(10_301, 300, 1000), 11_300);
});

Deno.test("nextSlot() keeps the grid and skips slots already past", () => {
  assert.equal(nextSlot(10_300, 10_305, 1000), 11_300);
  assert.equal(nextSlot(10_300, 11_300, 1000), 12_300);
  assert.equal(nextSlot(10_300, 13_750, 1000), 14_300);
});
