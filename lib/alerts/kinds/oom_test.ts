import assert from "node:assert/strict";
import { oom } from "./oom.ts";
import { event, harness, lastInfo, rule, T0 } from "./testing.ts";

const SUBJECT = `h1/${"c".repeat(64)}`;

Deno.test("oom records an instant alert, at most one per repeat interval (a minute at least)", async () => {
  const r = rule({ name: "OOM", kind: "event", event: "oom", repeat_s: 0 });
  const h = harness([r]);
  oom.containerEvent!(h.at(T0), r, event("oom"));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "web-1",
    containerName: "api",
    title: "OOM on web-1 / api",
    detail: "api was killed: out of memory",
  });
  assert.deepEqual(h.take(), [`instant ${SUBJECT} ok null`]);
  oom.containerEvent!(h.at(T0 + 59_000), r, event("oom"));
  oom.containerEvent!(h.at(T0 + 59_000), r, event("die"));
  assert.deepEqual(h.take(), []);
  oom.containerEvent!(h.at(T0 + 60_000), r, event("oom"));
  assert.deepEqual(h.take(), [`instant ${SUBJECT} ok null`]);

  const hourly = rule({ name: "OOM", kind: "event", event: "oom", repeat_s: 3600 });
  const h2 = harness([hourly]);
  oom.containerEvent!(h2.at(T0), hourly, event("oom"));
  oom.containerEvent!(h2.at(T0 + 600_000), hourly, event("oom"));
  assert.deepEqual(h2.take(), [`instant ${SUBJECT} ok null`]);
});
