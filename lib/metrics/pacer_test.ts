import assert from "node:assert/strict";
import { createPacer } from "./pacer.ts";

/** A pacer on a hand-moved clock whose pauses take the given times (other work in the loop). */
function paced(pauseTakes: number[], opts: { sliceRows?: number; sliceMs?: number } = {}) {
  let now = 0;
  const pauses: number[] = [];
  const pacer = createPacer({
    ...opts,
    busyLagMs: 3,
    minShare: 0.25,
    monotonic: () => now,
    pause: () => {
      const took = pauseTakes.shift() ?? 1;
      pauses.push(took);
      now += took;
      return Promise.resolve();
    },
  });
  return { pacer, pauses, work: (ms: number) => void (now += ms) };
}

Deno.test("createPacer() yields once a slice's rows or time are used up, not before", async () => {
  const { pacer, pauses, work } = paced([], { sliceRows: 100, sliceMs: 10 });
  await pacer.step(60);
  work(2);
  await pacer.step(30);
  assert.equal(pauses.length, 0, "90 rows in 2 ms: same slice");
  await pacer.step(20);
  assert.equal(pauses.length, 1, "110 rows: yield");
  work(12);
  await pacer.step(1);
  assert.equal(pauses.length, 2, "12 ms: yield");
  assert.equal(pacer.slices, 3);
});

Deno.test("createPacer() keeps yielding while the loop is busy, up to its share floor", async () => {
  // Each slice works 4 ms; with a share of at least 0.25 the wait after it is at most 12 ms.
  const { pacer, pauses, work } = paced([5, 5, 1, 1, 1, 6, 6, 6], { sliceMs: 4 });
  work(4);
  await pacer.step(1);
  assert.deepEqual(
    pauses,
    [5, 5, 1, 1],
    "two busy turns (requests ran), then on after two quiet ones in a row",
  );
  work(4);
  await pacer.step(1);
  assert.deepEqual(pauses.slice(4), [1], "an idle loop: one quiet turn and on");
  work(4);
  await pacer.step(1);
  assert.deepEqual(
    pauses.slice(5),
    [6, 6],
    "busy: on after 12 ms however busy, a quarter share",
  );
  assert.equal(pacer.slices, 4);
});
