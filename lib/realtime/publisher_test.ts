import assert from "node:assert/strict";
import type { Logger } from "../log.ts";
import { createMemoryBus } from "./bus.ts";
import { createRealtimeHub } from "./hub.ts";
import { createRealtimePublisher } from "./publisher.ts";
import { type Topic, topics } from "./topics.ts";
import { alice, FakeSocket, settle } from "./test_support.ts";

function recorder() {
  const lines: [string, Record<string, unknown> | undefined][] = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => lines.push([msg, fields]),
    error: (msg, fields) => lines.push([msg, fields]),
  };
  return { lines, log };
}

Deno.test("createRealtimePublisher() publish() reaches hub clients as the text it encoded once", async () => {
  const bus = createMemoryBus();
  const hub = createRealtimeHub({ bus, canRead: () => true });
  const { lines, log } = recorder();
  const realtime = createRealtimePublisher(bus, log);
  const socket = new FakeSocket();
  const client = hub.connect(socket, alice);
  const topic = topics.hostMetrics("o1", "h1");
  client.onMessage(JSON.stringify({ type: "subscribe", topic }));
  await settle();

  const encoded = realtime.encode(topic, { host_id: "h1", samples: [{ t: 1, host: { a: 1 } }] });
  await realtime.publish(topic, encoded);
  await realtime.publish(topic, { host_id: "h1", samples: [] });
  assert.deepEqual(socket.sent.slice(1), [
    `{"type":"event","topic":"${topic}","data":${encoded.json}}`,
    `{"type":"event","topic":"${topic}","data":{"host_id":"h1","samples":[]}}`,
  ]);
  assert.deepEqual(lines, []);
  await hub.close();
  await bus.close();
});

Deno.test("createRealtimePublisher() publish() logs a failure once, here, and never rejects", async () => {
  const bus = createMemoryBus();
  const { lines, log } = recorder();
  const realtime = createRealtimePublisher(bus, log);
  await realtime.publish("hosts" as Topic<number>, 1);
  await realtime.publish(topics.audit("o1"), { id: "a".repeat(8000), action: "x" });
  await bus.close();
  await realtime.publish(topics.hosts("o1"), { host_id: "h1", online: true });
  assert.deepEqual(lines.map(([msg, f]) => [msg, f?.topic]), [
    ["realtime: publish failed", "hosts"],
    ["realtime: publish failed", "org:o1:audit"],
    ["realtime: publish failed", "org:o1:hosts"],
  ]);
  assert.match(String(lines[0][1]?.error), /Cannot publish to "hosts": invalid topic/);
  assert.match(String(lines[1][1]?.error), /PostgreSQL NOTIFY allows at most 7999/);
  assert.match(String(lines[2][1]?.error), /bus is closed/);
});

Deno.test("createRealtimePublisher() publish() takes only its topic's payload type (checked by deno check)", async () => {
  const bus = createMemoryBus();
  const seen: string[] = [];
  bus.subscribe((_topic, _data, json) => seen.push(json));
  const r = createRealtimePublisher(bus, recorder().log);
  const state = undefined as string | undefined;
  await r.publish(topics.containers("o"), {
    host_id: "h",
    kind: "event",
    id: "c",
    action: "a",
    state,
  });
  await r.publish(topics.hosts("o"), { host_id: "h", online: true });
  // @ts-expect-error a payload of the wrong type
  await r.publish(topics.hosts("o"), { host_id: "h", online: "yes" });
  // @ts-expect-error a property the topic's type does not have
  await r.publish(topics.hosts("o"), { host_id: "h", online: true, extra: 1 });
  // @ts-expect-error a topic built by hand, not by `topics`
  await r.publish("org:o:hosts", { host_id: "h", online: true });
  // @ts-expect-error a payload encoded for another topic
  await r.publish(topics.hosts("o"), r.encode(topics.audit("o"), { id: "a", action: "b" }));
  assert.equal(seen.length, 6, "the type checker, not the publisher, refuses them");
  await bus.close();
});
