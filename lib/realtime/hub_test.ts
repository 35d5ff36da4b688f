import assert from "node:assert/strict";
import { createMemoryBus } from "./bus.ts";
import {
  accessTopic,
  type CanRead,
  createRealtimeHub,
  publishAccessChanged,
  type RealtimeHubOptions,
} from "./hub.ts";
import { parseTopic } from "./topics.ts";
import { alice, FakeSocket, FakeTimers, settle, waitFor } from "./test_support.ts";

// Alice belongs to org "o1" only, and may read her own user topics.
const canRead: CanRead = (principal, topic) => {
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  return parsed.scope === "org" ? parsed.id === "o1" : parsed.id === principal.userId;
};

function setup(extra: Partial<RealtimeHubOptions> = {}) {
  const bus = createMemoryBus();
  const hub = createRealtimeHub({ bus, canRead, ...extra });
  const join = () => {
    const socket = new FakeSocket();
    const client = hub.connect(socket, alice);
    const send = (message: unknown) =>
      client.onMessage(typeof message === "string" ? message : JSON.stringify(message));
    return { socket, client, send };
  };
  return {
    bus,
    hub,
    join,
    async [Symbol.asyncDispose]() {
      await hub.close();
      await bus.close();
    },
  };
}

Deno.test("createRealtimeHub() answers ping with pong, echoing the id", async () => {
  await using t = setup();
  const { socket, send } = t.join();
  send({ type: "ping", id: "p1" });
  send({ type: "ping" });
  send({ type: "ping", id: 7 });
  send({ type: "ping", id: { nested: true } });
  await settle();
  assert.deepEqual(socket.frames(), [
    { type: "pong", id: "p1" },
    { type: "pong" },
    { type: "pong", id: 7 },
    { type: "pong" },
  ]);
});

Deno.test("createRealtimeHub() refuses a forbidden topic and delivers nothing from it", async () => {
  await using t = setup();
  const { socket, send } = t.join();
  send({ type: "subscribe", topic: "org:o2:hosts" });
  send({ type: "subscribe", topic: "user:u-bob:notifications" });
  await settle();
  assert.deepEqual(socket.frames(), [
    {
      type: "error",
      code: "forbidden",
      message: 'Cannot subscribe to "org:o2:hosts": not allowed',
      topic: "org:o2:hosts",
    },
    {
      type: "error",
      code: "forbidden",
      message: 'Cannot subscribe to "user:u-bob:notifications": not allowed',
      topic: "user:u-bob:notifications",
    },
  ]);
  await t.hub.publish("org:o2:hosts", { secret: true });
  assert.equal(socket.sent.length, 2);
  assert.deepEqual(t.hub.stats(), { clients: 1, subscriptions: 0 });
});

Deno.test("createRealtimeHub() answers bad input with bad_request", async () => {
  await using t = setup();
  const { socket, send } = t.join();
  send("{not json");
  send("[1,2]");
  send({ type: "dance" });
  send({ type: "subscribe", topic: "org:o1:UPPER" });
  send({ type: "subscribe", topic: "o1:hosts" });
  send({ type: "subscribe", topic: 42 });
  send({ type: "unsubscribe" });
  await settle();
  const frames = socket.frames();
  assert.equal(frames.length, 7);
  for (const frame of frames) {
    assert.equal(frame.type, "error");
    assert.equal(frame.code, "bad_request");
    assert.equal(typeof frame.message, "string");
  }
  assert.equal(frames[0].message, "Message is not valid JSON");
  assert.equal(frames[3].topic, "org:o1:UPPER");
  assert.equal("topic" in frames[5], false, "a non-string topic is not echoed");
  assert.equal(socket.closedWith, undefined);
});

Deno.test("createRealtimeHub() fans an event out only to subscribers of its topic", async () => {
  await using t = setup();
  const a = t.join();
  const b = t.join();
  const c = t.join();
  a.send({ type: "subscribe", topic: "org:o1:hosts" });
  b.send({ type: "subscribe", topic: "org:o1:hosts" });
  b.send({ type: "subscribe", topic: "org:o1:alerts" });
  c.send({ type: "subscribe", topic: "org:o1:alerts" });
  await settle();
  assert.deepEqual(t.hub.stats(), { clients: 3, subscriptions: 4 });
  await t.hub.publish("org:o1:hosts", { id: "h1" });
  await t.hub.publish("org:o1:other", { id: "nobody" });
  const event = { type: "event", topic: "org:o1:hosts", data: { id: "h1" } };
  assert.deepEqual(a.socket.frames(), [{ type: "subscribed", topic: "org:o1:hosts" }, event]);
  assert.deepEqual(b.socket.frames().slice(2), [event]);
  assert.deepEqual(c.socket.frames(), [{ type: "subscribed", topic: "org:o1:alerts" }]);
});

Deno.test("createRealtimeHub() receives events other replicas put on the bus", async () => {
  await using t = setup();
  const a = t.join();
  a.send({ type: "subscribe", topic: "user:u-alice:inbox" });
  await settle();
  await t.bus.publish("user:u-alice:inbox", [1, 2]);
  assert.deepEqual(a.socket.frames().at(-1), {
    type: "event",
    topic: "user:u-alice:inbox",
    data: [1, 2],
  });
});

Deno.test("createRealtimeHub() stops delivery after unsubscribe", async () => {
  await using t = setup();
  const a = t.join();
  a.send({ type: "subscribe", topic: "org:o1:hosts" });
  a.send({ type: "subscribe", topic: "org:o1:hosts" }); // idempotent
  await settle();
  await t.hub.publish("org:o1:hosts", 1);
  a.send({ type: "unsubscribe", topic: "org:o1:hosts" });
  await settle();
  await t.hub.publish("org:o1:hosts", 2);
  assert.deepEqual(a.socket.frames(), [
    { type: "subscribed", topic: "org:o1:hosts" },
    { type: "subscribed", topic: "org:o1:hosts" },
    { type: "event", topic: "org:o1:hosts", data: 1 },
    { type: "unsubscribed", topic: "org:o1:hosts" },
  ]);
  assert.deepEqual(t.hub.stats(), { clients: 1, subscriptions: 0 });
});

Deno.test("createRealtimeHub() caps subscriptions per client", async () => {
  await using t = setup({ maxSubscriptionsPerClient: 3 });
  const a = t.join();
  for (let i = 0; i < 4; i++) a.send({ type: "subscribe", topic: `org:o1:t${i}` });
  await settle();
  const last = a.socket.frames().at(-1)!;
  assert.equal(last.code, "bad_request");
  assert.match(last.message as string, /at most 3 subscriptions/);
  assert.equal(t.hub.stats().subscriptions, 3);
});

Deno.test("createRealtimeHub() closes with 1009 on a message over the size cap", async () => {
  const closes: number[] = [];
  await using t = setup({ onClientClosed: (info) => closes.push(info.code) });
  const a = t.join();
  a.send({ type: "ping", id: "x".repeat(4000) }); // under 4 KiB
  a.send({ type: "ping", id: "é".repeat(2100) }); // 4200 bytes, only 2100 characters
  await settle();
  assert.equal(a.socket.sent.length, 1);
  assert.deepEqual(a.socket.closedWith?.code, 1009);
  assert.deepEqual(closes, [1009]);
  assert.deepEqual(t.hub.stats(), { clients: 0, subscriptions: 0 });
});

Deno.test("createRealtimeHub() closes with 1003 on a binary frame", async () => {
  await using t = setup();
  const a = t.join();
  a.client.onMessage(new ArrayBuffer(4));
  assert.equal(a.socket.closedWith?.code, 1003);
  assert.equal(t.hub.stats().clients, 0);
});

Deno.test("createRealtimeHub() answers in request order when canRead is slow", async () => {
  const slow: CanRead = async (principal, topic) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return canRead(principal, topic);
  };
  await using t = setup({ canRead: slow });
  const a = t.join();
  a.send({ type: "subscribe", topic: "org:o1:a" });
  a.send({ type: "ping", id: 1 });
  a.send({ type: "subscribe", topic: "org:o2:b" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(a.socket.frames().map((f) => f.type), ["subscribed", "pong", "error"]);
});

Deno.test("createRealtimeHub() fails closed when canRead throws", async () => {
  const errors: unknown[] = [];
  await using t = setup({
    canRead: () => {
      throw new Error("db down");
    },
    onError: (error) => errors.push(error),
  });
  const a = t.join();
  a.send({ type: "subscribe", topic: "org:o1:hosts" });
  await settle();
  assert.equal(a.socket.frames()[0].code, "forbidden");
  assert.equal(errors.length, 1);
  assert.equal(t.hub.stats().subscriptions, 0);
});

Deno.test("createRealtimeHub() closes a client that floods requests behind a slow canRead", async () => {
  const never = Promise.withResolvers<boolean>();
  await using t = setup({ canRead: () => never.promise, maxPendingMessages: 4 });
  const a = t.join();
  for (let i = 0; i < 6; i++) a.send({ type: "subscribe", topic: `org:o1:t${i}` });
  assert.equal(a.socket.closedWith?.code, 1008);
  assert.equal(t.hub.stats().clients, 0);
  never.resolve(true);
  await settle();
  assert.equal(a.socket.sent.length, 0, "nothing is sent to a client that was dropped");
});

Deno.test("createRealtimeHub() forgets a client whose queue overflowed, others keep receiving", async () => {
  const timers = new FakeTimers();
  const closes: { code: number; reason: string }[] = [];
  await using t = setup({
    queue: { timers, maxQueuedMessages: 2, maxBufferedBytes: 1000 },
    onClientClosed: ({ code, reason }) => closes.push({ code, reason }),
  });
  const slow = t.join();
  const fast = t.join();
  slow.send({ type: "subscribe", topic: "org:o1:hosts" });
  fast.send({ type: "subscribe", topic: "org:o1:hosts" });
  await settle();
  slow.socket.bufferedAmount = 1000; // the slow client stopped reading
  for (let i = 0; i < 5; i++) await t.hub.publish("org:o1:hosts", i);
  assert.deepEqual(slow.socket.closedWith, { code: 1013, reason: "queue overflow" });
  assert.deepEqual(closes, [{ code: 1013, reason: "queue overflow" }]);
  assert.deepEqual(t.hub.stats(), { clients: 1, subscriptions: 1 });
  assert.equal(timers.pending.size, 0);
  assert.deepEqual(
    fast.socket.frames().filter((f) => f.type === "event").map((f) => f.data),
    [0, 1, 2, 3, 4],
  );
  // The peer's own close arriving later changes nothing.
  slow.client.onClose(1006, "");
  assert.equal(closes.length, 1);
});

Deno.test("createRealtimeHub() drops a client when its socket closes", async () => {
  await using t = setup();
  const a = t.join();
  a.send({ type: "subscribe", topic: "org:o1:hosts" });
  await settle();
  a.client.onClose(1000, "bye");
  a.client.onClose(1000, "bye");
  assert.deepEqual(t.hub.stats(), { clients: 0, subscriptions: 0 });
  await t.hub.publish("org:o1:hosts", 1);
  assert.equal(a.socket.sent.length, 1);
});

Deno.test("createRealtimeHub() close() closes clients with 1001 and detaches from the bus", async () => {
  const bus = createMemoryBus();
  const hub = createRealtimeHub({ bus, canRead });
  const socket = new FakeSocket();
  const client = hub.connect(socket, alice);
  client.onMessage(JSON.stringify({ type: "subscribe", topic: "org:o1:hosts" }));
  await settle();
  await hub.close();
  assert.equal(socket.closedWith?.code, 1001);
  assert.deepEqual(hub.stats(), { clients: 0, subscriptions: 0 });
  socket.readyState = 1;
  await bus.publish("org:o1:hosts", 1);
  assert.equal(socket.sent.length, 1);
  const late = new FakeSocket();
  hub.connect(late, alice);
  assert.equal(late.closedWith?.code, 1001);
  await bus.close();
});

Deno.test("createRealtimeHub() publish() rejects an invalid topic", async () => {
  await using t = setup();
  await assert.rejects(t.hub.publish("hosts", 1), /Cannot publish to "hosts": invalid topic/);
});

/** The code a fake socket was closed with (a function: asserting `undefined` first must not narrow it). */
const closeCode = (socket: FakeSocket) => socket.closedWith?.code;

Deno.test("createRealtimeHub() re-checks a user's sockets when their access changes: 4401 or 4403", async () => {
  let credential: number | null = null;
  let readsO1 = true;
  await using t = setup({
    checkCredential: () => Promise.resolve(credential),
    canRead: (p, topic) => topic.startsWith("org:o1:") ? readsO1 : canRead(p, topic),
  });
  const a = t.join();
  const b = t.join();
  a.send({ type: "subscribe", topic: "org:o1:hosts" });
  b.send({ type: "subscribe", topic: `user:${alice.userId}:notes` });
  await settle();
  // Clients may not listen to the hub's own access channel.
  a.send({ type: "subscribe", topic: accessTopic(alice.userId) });
  await settle();
  assert.equal(a.socket.frames().at(-1)?.code, "forbidden");

  readsO1 = false;
  publishAccessChanged(t.bus, "u-someone-else");
  await settle();
  assert.equal(a.socket.closedWith, undefined, "another user's news re-checks nobody here");
  publishAccessChanged(t.bus, alice.userId);
  await settle();
  assert.equal(closeCode(a.socket), 4403);
  assert.equal(b.socket.closedWith, undefined, "b reads nothing it lost");

  credential = 4401;
  await t.hub.recheck(alice.userId);
  assert.equal(closeCode(b.socket), 4401);
  assert.equal(t.hub.stats().clients, 0);
});

Deno.test("createRealtimeHub() sweeps every socket periodically, e.g. for an expired token", async () => {
  let expired = false;
  await using t = setup({
    checkCredential: () => Promise.resolve(expired ? 4401 : null),
    recheckEveryMs: 20,
  });
  const a = t.join();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(a.socket.closedWith, undefined);
  expired = true;
  await waitFor(() => a.socket.closedWith?.code === 4401, "the sweep to close the socket", 2000);
});

Deno.test("createRealtimeHub() keeps a socket whose re-check fails (the database is away)", async () => {
  const errors: unknown[] = [];
  await using t = setup({
    checkCredential: () => Promise.reject(new Error("connection refused")),
    onError: (e) => errors.push(e),
  });
  const a = t.join();
  await t.hub.recheck();
  assert.equal(a.socket.closedWith, undefined);
  assert.equal(errors.length, 1);
});
