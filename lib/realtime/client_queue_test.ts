import assert from "node:assert/strict";
import { createClientQueue } from "./client_queue.ts";
import { FakeSocket, FakeTimers } from "./test_support.ts";

Deno.test("createClientQueue() sends at once while the socket is below high water", () => {
  const socket = new FakeSocket();
  const timers = new FakeTimers();
  const queue = createClientQueue(socket, { timers });
  for (let i = 0; i < 1000; i++) assert.equal(queue.send(`m${i}`), true);
  assert.equal(socket.sent.length, 1000);
  assert.equal(queue.queued, 0);
  assert.equal(timers.pending.size, 0);
});

Deno.test("createClientQueue() closes with 1013 and drops everything on overflow", () => {
  const socket = new FakeSocket();
  socket.bufferedAmount = 100; // stalled at the high-water mark
  const timers = new FakeTimers();
  let overflows = 0;
  const queue = createClientQueue(socket, {
    timers,
    maxQueuedMessages: 3,
    maxBufferedBytes: 100,
    onOverflow: () => overflows++,
  });
  assert.equal(queue.send("a"), true);
  assert.equal(queue.send("b"), true);
  assert.equal(queue.send("c"), true);
  assert.equal(queue.queued, 3);
  // Retries while stalled send nothing and keep the queue.
  assert.equal(timers.fire(), 1);
  assert.equal(socket.sent.length, 0);
  assert.equal(queue.queued, 3);

  assert.equal(queue.send("d"), false);
  assert.deepEqual(socket.closedWith, { code: 1013, reason: "queue overflow" });
  assert.equal(overflows, 1);
  assert.equal(queue.closed, true);
  assert.equal(queue.queued, 0);
  assert.equal(timers.pending.size, 0, "the retry timer is cancelled");
  assert.equal(queue.send("e"), false);
  assert.equal(socket.sent.length, 0);
  assert.equal(overflows, 1);
});

Deno.test("createClientQueue() drains a slow-then-fast socket without loss or reordering", () => {
  const socket = new FakeSocket(true);
  const timers = new FakeTimers();
  const queue = createClientQueue(socket, { timers, maxQueuedMessages: 50, maxBufferedBytes: 10 });
  const messages = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, "0")}`);
  // Slow: the peer reads nothing, so three 3-byte messages reach the high-water mark.
  for (const m of messages.slice(0, 20)) assert.equal(queue.send(m), true);
  assert.equal(socket.sent.length, 4);
  assert.equal(queue.queued, 16);
  timers.fire();
  assert.equal(socket.sent.length, 4, "nothing moves while the socket is full");

  // The peer reads a little: one retry moves only what fits.
  socket.bufferedAmount = 4;
  timers.fire();
  assert.equal(socket.sent.length, 6);

  // New messages queue behind the old ones even if the socket has room at that moment.
  socket.bufferedAmount = 0;
  for (const m of messages.slice(20)) queue.send(m);

  // Fast: the peer now reads everything as soon as it arrives.
  socket.accumulate = false;
  socket.bufferedAmount = 0;
  while (timers.fire() > 0);
  assert.deepEqual(socket.sent, messages);
  assert.equal(queue.queued, 0);
  assert.equal(socket.closedWith, undefined);
  assert.equal(timers.pending.size, 0);
});

Deno.test("createClientQueue() holds messages while the socket is still connecting", () => {
  const socket = new FakeSocket();
  socket.readyState = 0;
  const timers = new FakeTimers();
  const queue = createClientQueue(socket, { timers });
  queue.send("a");
  queue.send("b");
  timers.fire();
  assert.equal(socket.sent.length, 0);
  socket.readyState = 1;
  timers.fire();
  assert.deepEqual(socket.sent, ["a", "b"]);
  assert.equal(timers.pending.size, 0);
});

Deno.test("createClientQueue() gives up quietly once the socket is closed", () => {
  const socket = new FakeSocket();
  socket.bufferedAmount = 1e9;
  const timers = new FakeTimers();
  let overflows = 0;
  const queue = createClientQueue(socket, { timers, onOverflow: () => overflows++ });
  queue.send("a");
  socket.readyState = 3;
  timers.fire();
  assert.equal(queue.closed, true);
  assert.equal(queue.send("b"), false);
  assert.equal(timers.pending.size, 0);
  assert.equal(socket.closedWith, undefined, "no close on a socket that is already closed");
  assert.equal(overflows, 0);
});

Deno.test("createClientQueue() dispose() stops the retry timer", () => {
  const socket = new FakeSocket();
  socket.bufferedAmount = 1e9;
  const timers = new FakeTimers();
  const queue = createClientQueue(socket, { timers });
  queue.send("a");
  assert.equal(timers.pending.size, 1);
  queue.dispose();
  assert.equal(timers.pending.size, 0);
  assert.equal(queue.queued, 0);
});

Deno.test("createClientQueue() uses real timers by default", async () => {
  const socket = new FakeSocket();
  socket.bufferedAmount = 1e9;
  const queue = createClientQueue(socket, { retryMs: 1 });
  queue.send("a");
  socket.bufferedAmount = 0;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(socket.sent, ["a"]);
  queue.dispose();
});
