import assert from "node:assert/strict";
import { restartLoop } from "./restart_loop.ts";
import { event, harness, lastInfo, rule, T0 } from "./testing.ts";

const SUBJECT = `h1/${"c".repeat(64)}`;
const loop = rule({
  name: "Loop",
  kind: "event",
  event: "restart_loop",
  event_count: 3,
  event_window_s: 60,
});

Deno.test("restartLoop fires on the Nth die within the window, counting a replayed event once", async () => {
  const h = harness([loop]);
  restartLoop.containerEvent!(h.at(T0), loop, event("die", { at: T0 }));
  restartLoop.containerEvent!(h.at(T0 + 1), loop, event("die", { at: T0 }));
  restartLoop.containerEvent!(h.at(T0 + 2), loop, event("die", { at: T0 + 10_000 }));
  assert.deepEqual(h.take(), [], "two distinct deaths");
  restartLoop.containerEvent!(h.at(T0 + 3), loop, event("die", { at: T0 + 20_000 }));
  assert.equal((await lastInfo(h.ops))?.detail, "api restarted 3 times in 1m");
  assert.deepEqual(h.take(), [`fire ${SUBJECT} firing 3`]);
  restartLoop.containerEvent!(h.at(T0 + 4), loop, event("die", { at: T0 + 30_000 }));
  assert.deepEqual(h.take(), [`sync ${SUBJECT} firing 3`], "a death while firing is recorded");
});

Deno.test("restartLoop forgets deaths older than the window", () => {
  const h = harness([loop]);
  for (const at of [T0, T0 + 40_000, T0 + 80_000, T0 + 120_000]) {
    restartLoop.containerEvent!(h.at(at), loop, event("die", { at }));
  }
  assert.deepEqual(h.take(), []);
  assert.deepEqual(h.org.subjects.values().next().value!.events, [T0 + 80_000, T0 + 120_000]);
});

Deno.test("restartLoop resolves from a tick after a quiet window, or when the container is removed", () => {
  const h = harness([loop]);
  for (const at of [T0, T0 + 1000, T0 + 2000]) {
    restartLoop.containerEvent!(h.at(at), loop, event("die", { at }));
  }
  h.take();
  const s = h.org.subjects.values().next().value!;
  restartLoop.tickSubject!(h.at(T0 + 61_000), loop, s);
  assert.deepEqual(h.take(), [], "the last death is less than a window ago");
  restartLoop.tickSubject!(h.at(T0 + 62_000), loop, s);
  assert.deepEqual(h.take(), [`resolve ${SUBJECT} ok 3`]);
  assert.deepEqual(s.events, []);

  const h2 = harness([loop]);
  for (const at of [T0, T0 + 1000, T0 + 2000]) {
    restartLoop.containerEvent!(h2.at(at), loop, event("die", { at }));
  }
  h2.take();
  restartLoop.containerEvent!(h2.at(T0 + 3000), loop, event("destroy"));
  assert.deepEqual(h2.take(), [`resolve ${SUBJECT} ok 3`]);
});
