import assert from "node:assert/strict";
import { unhealthy } from "./unhealthy.ts";
import { event, harness, lastInfo, rule, T0 } from "./testing.ts";

const SUBJECT = `h1/${"c".repeat(64)}`;
const health = (word: string) => event("health_status", { status: `Up 3 minutes (${word})` });

Deno.test("unhealthy fires on an unhealthy status; healthy, die or destroy resolves", async () => {
  const r = rule({ name: "Unhealthy", kind: "event", event: "unhealthy" });
  for (const end of [health("healthy"), event("die"), event("destroy")]) {
    const h = harness([r]);
    unhealthy.containerEvent!(h.at(T0), r, health("unhealthy"));
    assert.equal((await lastInfo(h.ops))?.detail, "api is unhealthy (its health check fails)");
    assert.deepEqual(h.take(), [`fire ${SUBJECT} firing null`]);
    unhealthy.containerEvent!(h.at(T0 + 1000), r, health("unhealthy"));
    assert.deepEqual(h.take(), [], "already firing");
    unhealthy.containerEvent!(h.at(T0 + 2000), r, end);
    assert.deepEqual(h.take(), [`resolve ${SUBJECT} ok null`], end.event.action);
  }
});

Deno.test("unhealthy with a hold is pending, fires from a tick once the hold has passed", async () => {
  const r = rule({ name: "Unhealthy", kind: "event", event: "unhealthy", hold_s: 30 });
  const h = harness([r]);
  unhealthy.containerEvent!(h.at(T0), r, health("unhealthy"));
  assert.deepEqual(h.take(), [`sync ${SUBJECT} pending null`]);
  const s = h.org.subjects.values().next().value!;
  unhealthy.tickSubject!(h.at(T0 + 29_000), r, s);
  assert.deepEqual(h.take(), []);
  unhealthy.tickSubject!(h.at(T0 + 30_000), r, s);
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "h1",
    containerName: "api",
    title: "Unhealthy on h1 / api",
    detail: "api is unhealthy (its health check fails)",
  }, "a host without a plan is named by its id");
  assert.deepEqual(h.take(), [`fire ${SUBJECT} firing null`]);
});
