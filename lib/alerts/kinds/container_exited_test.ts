import assert from "node:assert/strict";
import { containerExited, exitCodeOf } from "./container_exited.ts";
import { event, harness, lastInfo, rule, T0 } from "./testing.ts";

const SUBJECT = `h1/${"c".repeat(64)}`;
const exited = (code: number) =>
  event("die", { state: "exited", status: `Exited (${code}) 1s ago` });

Deno.test("exitCodeOf() reads the code of an exited or restarting container", () => {
  assert.equal(exitCodeOf("Exited (137) 2 seconds ago"), 137);
  assert.equal(exitCodeOf("Restarting (1) 5 seconds ago"), 1);
  assert.equal(exitCodeOf("Exited (-1) 1 second ago"), -1);
  assert.equal(exitCodeOf("Up 2 minutes"), null);
});

Deno.test("containerExited fires at once on a non-zero exit that stays exited; a start resolves", async () => {
  const r = rule({ name: "Exited", kind: "event", event: "container_exited" });
  const h = harness([r]);
  containerExited.containerEvent!(h.at(T0), r, exited(3));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "web-1",
    containerName: "api",
    title: "Exited on web-1 / api",
    detail: "api exited with code 3 and was not restarted",
  });
  assert.deepEqual(h.take(), [`fire ${SUBJECT} firing 3`]);
  containerExited.containerEvent!(h.at(T0 + 1000), r, exited(3));
  assert.deepEqual(h.take(), [], "already firing");
  containerExited.containerEvent!(h.at(T0 + 2000), r, event("start"));
  assert.deepEqual(h.take(), [`resolve ${SUBJECT} ok 3`]);
});

Deno.test("containerExited ignores exit 0 and a container its restart policy brings back", () => {
  const r = rule({ name: "Exited", kind: "event", event: "container_exited" });
  const h = harness([r]);
  containerExited.containerEvent!(h.at(T0), r, exited(0));
  containerExited.containerEvent!(
    h.at(T0),
    r,
    event("die", { state: "restarting", status: "Restarting (1) 1s ago" }),
  );
  containerExited.containerEvent!(h.at(T0), r, event("destroy"));
  assert.deepEqual(h.take(), []);
});

Deno.test("containerExited with a hold is pending until a tick after the hold; a start settles it", async () => {
  const r = rule({ name: "Exited", kind: "event", event: "container_exited", hold_s: 60 });
  const h = harness([r]);
  containerExited.containerEvent!(h.at(T0), r, exited(2));
  assert.deepEqual(h.take(), [`sync ${SUBJECT} pending 2`]);
  containerExited.tickSubject!(h.at(T0 + 59_000), r, h.org.subjects.values().next().value!);
  assert.deepEqual(h.take(), []);
  const s = h.org.subjects.values().next().value!;
  containerExited.tickSubject!(h.at(T0 + 60_000), r, s);
  assert.equal((await lastInfo(h.ops))?.detail, "api exited with code 2 and was not restarted");
  assert.deepEqual(h.take(), [`fire ${SUBJECT} firing 2`]);
  assert.equal(s.since, T0 + 60_000);

  const h2 = harness([r]);
  containerExited.containerEvent!(h2.at(T0), r, exited(2));
  containerExited.containerEvent!(h2.at(T0 + 1000), r, event("start"));
  assert.deepEqual(h2.take(), [`sync ${SUBJECT} ok 2`], "one queued write, updated in place");
  assert.equal(h2.org.subjects.values().next().value!.state, "ok");
});
