import assert from "node:assert/strict";
import {
  FIRST_SPREAD_MS,
  firstSlot,
  nextSlot,
  PHASE_STEP_MS,
  phaseOf,
  slotAfterFirst,
  slotAtOrAfter,
} from "./schedule.ts";

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

Deno.test("firstSlot() comes within FIRST_SPREAD_MS; the grid follows at least half an interval on", () => {
  const phase = phaseOf("0190c7c2-7a8b-7c6d-9e0f-123456789abc", 30_000);
  const first = firstSlot(100_000, phase, 30_000);
  assert.ok(first >= 100_000 && first < 100_000 + FIRST_SPREAD_MS, `first at ${first}`);
  const next = slotAfterFirst(first, phase, 30_000);
  assert.ok(next - first >= 15_000 && next - first < 45_000, `then ${next - first} ms later`);
  assert.equal((next - phase) % 30_000, 0, "back on the grid");
  // A short interval spreads over the interval itself.
  assert.ok(firstSlot(0, 1234, 1000) < 1000);
});

Deno.test("phaseOf() lands on PHASE_STEP_MS steps, so checks due together share a wake-up", () => {
  for (let i = 0; i < 100; i++) {
    const p = phaseOf(crypto.randomUUID(), 10_000);
    assert.equal(p % PHASE_STEP_MS, 0);
    assert.ok(p >= 0 && p < 10_000);
  }
  // An interval shorter than a step still gets a valid phase.
  assert.equal(phaseOf(crypto.randomUUID(), 50), 0);
});
