import assert from "node:assert/strict";
import { createUpdateQueue, type UpdateStep } from "./update_queue.ts";
import { recordingLogger } from "../../tests/support/recording_log.ts";

/** A queue on a recording log with fast retries; `drifts()` counts the resyncs it asked for. */
function testQueue(opts: { timeoutMs?: number; maxPending?: number } = {}) {
  const log = recordingLogger();
  let drift = 0;
  const q = createUpdateQueue({
    hostId: "h1",
    log,
    backoff: { baseMs: 1, capMs: 4 },
    onDrift: () => drift++,
    ...opts,
  });
  return { q, lines: log.lines, drifts: () => drift };
}

async function waitFor(what: string, fn: () => boolean, ms = 5000) {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("createUpdateQueue() retries a hung step after its timeout, in order, and asks for a resync", async () => {
  const { q, lines, drifts } = testQueue({ timeoutMs: 50 });
  const applied: string[] = [];
  let attempts = 0;
  // The first attempt never settles (a query on a connection that died), later ones work.
  q.push({
    what: "event start",
    run: () => {
      attempts++;
      if (attempts === 1) return new Promise(() => {});
      applied.push("start");
      return Promise.resolve();
    },
  });
  q.push({ what: "event die", run: () => Promise.resolve(void applied.push("die")) });
  await q.idle();
  assert.deepEqual(applied, ["start", "die"], "nothing dropped, order kept");
  assert.equal(attempts, 2);
  assert.equal(drifts(), 1, "a fresh snapshot is asked for once the database answers again");
  const failed = lines.filter((l) => l.msg.startsWith("agent update failed"));
  assert.equal(failed.length, 1);
  assert.equal(failed[0].level, "warn");
  assert.match(String(failed[0].fields?.error), /no answer within 0.05 s/);
  q.close();
});

Deno.test("createUpdateQueue() keeps retrying a failing step with back-off until it succeeds", async () => {
  const { q, lines, drifts } = testQueue();
  let down = true;
  let ok = 0;
  q.push({
    what: "snapshot",
    run: () =>
      down ? Promise.reject(new Error("connect ECONNREFUSED")) : Promise.resolve(void ok++),
  });
  await waitFor("five failures", () => lines.length >= 5);
  assert.equal(ok, 0);
  assert.equal(q.size, 1, "the step waits at the head, not dropped");
  down = false;
  await q.idle();
  assert.equal(ok, 1);
  assert.equal(drifts(), 1);
  assert.ok(lines.some((l) => l.level === "info" && /answers again/.test(l.msg)));
  q.close();
});

Deno.test("createUpdateQueue() resyncs when a timed-out attempt lands late", async () => {
  const { q, drifts } = testQueue({ timeoutMs: 20 });
  let release!: () => void;
  let attempts = 0;
  q.push({
    what: "event stop",
    run: () => ++attempts === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve(),
  });
  await q.idle();
  assert.equal(drifts(), 1, "recovered");
  release();
  await waitFor("a resync for the late write", () => drifts() === 2);
  q.close();
});

Deno.test("createUpdateQueue() is bounded: an overflow drops queued changes for one resync", async () => {
  let gate!: () => void;
  const { q, lines, drifts } = testQueue({ maxPending: 5 });
  const ran: string[] = [];
  q.push({ what: "slow", run: () => new Promise<void>((r) => (gate = r)) });
  const step = (n: number): UpdateStep => ({
    what: `e${n}`,
    run: () => Promise.resolve(void ran.push(`e${n}`)),
  });
  for (let i = 0; i < 10; i++) q.push(step(i));
  assert.ok(q.size <= 5);
  assert.ok(drifts() >= 1, "a resync replaces what was dropped");
  assert.ok(lines.some((l) => /queue full/.test(l.msg)));
  gate();
  await q.idle();
  q.close();
});

Deno.test("createUpdateQueue() keeps one pending resync", async () => {
  let gate!: () => void;
  const { q } = testQueue();
  let resyncs = 0;
  q.push({ what: "slow", run: () => new Promise<void>((r) => (gate = r)) });
  for (let i = 0; i < 3; i++) {
    q.push({ what: "resync", resync: true, run: () => Promise.resolve(void resyncs++) });
  }
  assert.equal(q.size, 2);
  gate();
  await q.idle();
  assert.equal(resyncs, 1);
  q.close();
});

Deno.test("createUpdateQueue() gives a slow database more time instead of retrying forever", async () => {
  const { q, drifts } = testQueue({ timeoutMs: 100 });
  let attempts = 0;
  // Every attempt takes 150 ms: longer than the first timeout, well within the doubled one.
  const slow = (what: string) => ({
    what,
    whole: true,
    run: () => {
      attempts++;
      return new Promise<void>((r) => setTimeout(r, 150));
    },
  });
  q.push(slow("snapshot"));
  await q.idle();
  assert.ok(attempts >= 2, "the first attempt timed out");
  // Each late attempt asks for a resync; as slow, it must get the time it needs, not loop.
  for (let round = 0; round < 3; round++) {
    const before = drifts();
    q.push(slow("resync"));
    await q.idle();
    await new Promise((r) => setTimeout(r, 200));
    if (drifts() === before) break;
    assert.ok(round < 2, `still resyncing after ${round + 1} rounds`);
  }
  q.close();
});

Deno.test("createUpdateQueue() asks for no resync when the step that got through was a snapshot", async () => {
  const { q, drifts } = testQueue();
  let down = true;
  q.push({
    what: "snapshot",
    whole: true,
    run: () => down ? Promise.reject(new Error("connect ECONNREFUSED")) : Promise.resolve(),
  });
  await new Promise((r) => setTimeout(r, 20));
  down = false;
  await q.idle();
  assert.equal(drifts(), 0);
  q.close();
});
