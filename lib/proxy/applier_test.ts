import assert from "node:assert/strict";
import { createApplier } from "./applier.ts";

Deno.test("applier: a lone change is applied at once; a burst during a load goes out in one more load", async () => {
  let loads = 0;
  let release!: () => void;
  let gate = Promise.resolve();
  const applier = createApplier({
    intervalMs: 50,
    apply: async () => {
      loads++;
      await gate;
    },
  });
  const first = await applier.request();
  assert.ok(first.ok);
  assert.equal(loads, 1, "one change, one load");

  // Hold the next load open; 100 changes arriving meanwhile share one further load.
  gate = new Promise((r) => (release = r));
  const during = applier.request();
  await new Promise((r) => setTimeout(r, 60));
  const burst = Array.from({ length: 100 }, () => applier.request());
  release();
  await during;
  const outcomes = await Promise.all(burst);
  assert.ok(outcomes.every((o) => o.ok));
  assert.equal(loads, 3, "the burst is one load after the one in flight");
  await applier.close();
});

Deno.test("applier: a refused load is reported to every change it carried, and the next one tries again", async () => {
  let fail = true;
  const applier = createApplier({
    intervalMs: 0,
    apply: () =>
      fail
        ? Promise.reject(new Error("listen tcp :80: address already in use"))
        : Promise.resolve(),
  });
  const [a, b] = await Promise.all([applier.request(), applier.request()]);
  assert.equal(a.ok, false);
  assert.match(a.error ?? "", /address already in use/);
  assert.deepEqual(a, b);
  assert.equal(applier.last()?.ok, false);
  fail = false;
  assert.ok((await applier.request()).ok);
  await applier.close();
});
