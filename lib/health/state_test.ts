import assert from "node:assert/strict";
import { type MachineState, stepHealth } from "./state.ts";

const fresh = (): MachineState => ({
  state: "unknown",
  state_since: 0,
  consecutive_failures: 0,
  consecutive_successes: 0,
  last_at: null,
});

function run(oks: boolean[], check = { retries: 3, start_delay_s: 0, started_at: 0 }) {
  let s = fresh();
  const changes: string[] = [];
  oks.forEach((ok, i) => {
    const step = stepHealth(s, check, { at: 1000 * (i + 1), ok });
    s = step.next;
    if (step.change) changes.push(`${step.change.from}->${step.change.to}@${i}`);
  });
  return { s, changes };
}

Deno.test("stepHealth() a new check is healthy on its first success", () => {
  assert.deepEqual(run([true]).changes, ["unknown->healthy@0"]);
});

Deno.test("stepHealth() changes state only after `retries` consecutive results of the other kind", () => {
  const { changes, s } = run([true, false, false, true, false, false, false, true, true, true]);
  assert.deepEqual(changes, ["unknown->healthy@0", "healthy->unhealthy@6", "unhealthy->healthy@9"]);
  assert.equal(s.state, "healthy");
  assert.equal(s.state_since, 10_000);
});

Deno.test("stepHealth() does not flap on alternating results", () => {
  const flappy = Array.from({ length: 50 }, (_, i) => i % 2 === 0);
  assert.deepEqual(run(flappy).changes, ["unknown->healthy@0"]);
  const { changes } = run([true, false, false, false, true, false, true, false]);
  assert.deepEqual(changes, ["unknown->healthy@0", "healthy->unhealthy@3"]);
});

Deno.test("stepHealth() a never-healthy check becomes unhealthy after `retries` failures", () => {
  assert.deepEqual(run([false, false]).changes, []);
  assert.deepEqual(run([false, false, false]).changes, ["unknown->unhealthy@2"]);
  assert.deepEqual(run([false], { retries: 1, start_delay_s: 0, started_at: 0 }).changes, [
    "unknown->unhealthy@0",
  ]);
});

Deno.test("stepHealth() results inside the start delay do not count; replays are ignored", () => {
  // Started at t=0 with a 5 s delay: results at 1..4 s (failures) do not count.
  const check = { retries: 2, start_delay_s: 5, started_at: 0 };
  const { changes, s } = run([false, false, false, false, false, false], check);
  assert.deepEqual(changes, ["unknown->unhealthy@5"]);
  assert.equal(s.consecutive_failures, 2);
  // A result at or before the newest seen is a replay: nothing moves.
  const again = stepHealth(s, check, { at: 6000, ok: true });
  assert.equal(again.next, s);
  assert.equal(again.counted, false);
});
