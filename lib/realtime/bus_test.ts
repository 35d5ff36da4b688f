import assert from "node:assert/strict";
import {
  createMemoryBus,
  decodeEnvelope,
  decodeEvent,
  encodeEnvelope,
  encodeJsonEnvelope,
  MAX_EVENT_BYTES,
} from "./bus.ts";

Deno.test("createMemoryBus() delivers to every subscriber", async () => {
  const bus = createMemoryBus();
  const a: unknown[] = [];
  const b: unknown[] = [];
  bus.subscribe((topic, data) => a.push([topic, data]));
  bus.subscribe((topic, data) => b.push([topic, data]));
  await bus.publish("org:o1:hosts", { n: 1 });
  await bus.publish("org:o1:alerts", { n: 2 });
  const expected = [["org:o1:hosts", { n: 1 }], ["org:o1:alerts", { n: 2 }]];
  assert.deepEqual(a, expected);
  assert.deepEqual(b, expected);
  await bus.close();
});

Deno.test("createMemoryBus() hands each subscriber a copy of the data", async () => {
  const bus = createMemoryBus();
  const seen: unknown[] = [];
  bus.subscribe((_topic, data) => seen.push(data));
  const original = { list: [1] };
  await bus.publish("org:o1:x", original);
  original.list.push(2);
  assert.deepEqual(seen, [{ list: [1] }]);
  await bus.close();
});

Deno.test("createMemoryBus() stops delivering to an unsubscribed handler", async () => {
  const bus = createMemoryBus();
  const seen: unknown[] = [];
  const off = bus.subscribe((_topic, data) => seen.push(data));
  await bus.publish("org:o1:x", 1);
  off();
  await bus.publish("org:o1:x", 2);
  assert.deepEqual(seen, [1]);
  await bus.close();
});

Deno.test("createMemoryBus() keeps one order when a handler publishes", async () => {
  const bus = createMemoryBus();
  const first: unknown[] = [];
  const second: unknown[] = [];
  bus.subscribe((_topic, data) => {
    first.push(data);
    if (data === "a") void bus.publish("org:o1:x", "b");
  });
  bus.subscribe((_topic, data) => second.push(data));
  await bus.publish("org:o1:x", "a");
  assert.deepEqual(first, ["a", "b"]);
  assert.deepEqual(second, ["a", "b"]);
  await bus.close();
});

Deno.test("createMemoryBus() keeps delivering when one handler throws", async () => {
  const errors: unknown[] = [];
  const bus = createMemoryBus({ onError: (error) => errors.push(error) });
  const seen: unknown[] = [];
  bus.subscribe(() => {
    throw new Error("boom");
  });
  bus.subscribe((_topic, data) => seen.push(data));
  await bus.publish("org:o1:x", 1);
  assert.deepEqual(seen, [1]);
  assert.equal(errors.length, 1);
  await bus.close();
});

Deno.test("createMemoryBus() rejects events that PostgreSQL NOTIFY could not carry", async () => {
  const bus = createMemoryBus();
  await assert.rejects(
    bus.publish("org:o1:x", "x".repeat(MAX_EVENT_BYTES)),
    /Cannot publish to "org:o1:x": event is \d+ bytes encoded, PostgreSQL NOTIFY allows at most 7999/,
  );
  await assert.rejects(bus.publish("org:o1:x", undefined), /data is undefined/);
  await bus.close();
  await assert.rejects(bus.publish("org:o1:x", 1), /bus is closed/);
});

Deno.test("encodeEnvelope() counts UTF-8 bytes, not characters", () => {
  const overhead = encodeEnvelope({ topic: "t", data: "", origin: "o" }).length;
  // "é" is one UTF-16 unit but two bytes.
  const fits = "é".repeat(Math.floor((MAX_EVENT_BYTES - overhead) / 2));
  assert.ok(encodeEnvelope({ topic: "t", data: fits, origin: "o" }));
  assert.throws(
    () => encodeEnvelope({ topic: "t", data: fits + "éé", origin: "o" }),
    /bytes encoded/,
  );
});

Deno.test("encodeEnvelope() rejects data that is not JSON-serialisable", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(
    () => encodeEnvelope({ topic: "t", data: cyclic, origin: "o" }),
    /not JSON-serialisable/,
  );
});

Deno.test("decodeEnvelope() returns null for payloads that are not events", () => {
  assert.equal(decodeEnvelope("not json"), null);
  assert.equal(decodeEnvelope("42"), null);
  assert.equal(decodeEnvelope(JSON.stringify({ topic: "t", origin: "o" })), null);
  assert.deepEqual(decodeEnvelope(JSON.stringify({ topic: "t", data: null, origin: "o" })), {
    topic: "t",
    data: null,
    origin: "o",
  });
});

Deno.test("createMemoryBus() hands handlers the data's JSON text as published, not re-encoded", async () => {
  const bus = createMemoryBus();
  const seen: [string, unknown, string][] = [];
  bus.subscribe((topic, data, json) => seen.push([topic, data, json]));
  // Spacing JSON.stringify would not produce: only the publisher's own text can arrive like this.
  await bus.publishJson("org:o1:x", '{ "b": 2, "a": [1] }');
  await bus.publish("org:o1:y", { a: 1 });
  assert.deepEqual(seen, [
    ["org:o1:x", { b: 2, a: [1] }, '{ "b": 2, "a": [1] }'],
    ["org:o1:y", { a: 1 }, '{"a":1}'],
  ]);
  await assert.rejects(
    bus.publishJson("org:o1:x", JSON.stringify("x".repeat(MAX_EVENT_BYTES))),
    /PostgreSQL NOTIFY allows at most 7999/,
  );
  await bus.close();
});

Deno.test("decodeEvent() takes the data's text from our envelopes and encodes other layouts afresh", () => {
  const ours = encodeJsonEnvelope("org:o1:x", "o", '{ "n": 1 }');
  assert.deepEqual(decodeEvent(ours), {
    topic: "org:o1:x",
    origin: "o",
    data: { n: 1 },
    json: '{ "n": 1 }',
  });
  const foreign = JSON.stringify({ data: { n: 1 }, origin: "o", topic: "t" });
  assert.equal(decodeEvent(foreign)?.json, '{"n":1}');
  // A key after the data: the tail is not the data's text alone.
  const extra = '{"topic":"t","origin":"o","data":1,"more":2}';
  assert.deepEqual(decodeEvent(extra), { topic: "t", origin: "o", data: 1, json: "1" });
  assert.equal(decodeEvent("[1]"), null);
});
