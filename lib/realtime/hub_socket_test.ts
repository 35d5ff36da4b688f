/**
 * The hub over real sockets: Deno.serve + Deno.upgradeWebSocket on loopback, a real WebSocket client,
 * and a hand-made client that completes the handshake, subscribes, and then never reads again.
 */
import assert from "node:assert/strict";
import { createMemoryBus } from "./bus.ts";
import { attachWebSocket, createRealtimeHub, type RealtimeHubOptions } from "./hub.ts";
import { alice, waitFor } from "./test_support.ts";

function startServer(extra: Partial<RealtimeHubOptions> = {}) {
  const bus = createMemoryBus();
  const hub = createRealtimeHub({
    bus,
    canRead: (_p, topic) => topic.startsWith("org:o1:"),
    ...extra,
  });
  // Server-side sockets in connection order, so a test can look at one's bufferedAmount.
  const serverSockets: WebSocket[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    serverSockets.push(socket);
    attachWebSocket(hub, socket, alice);
    return response;
  });
  return {
    bus,
    hub,
    server,
    serverSockets,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await hub.close();
      await bus.close();
      await server.shutdown();
    },
  };
}

/** A browser-like client that records every frame it receives. */
async function openClient(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const frames: Record<string, unknown>[] = [];
  const closed = Promise.withResolvers<CloseEvent>();
  ws.onmessage = (event) => frames.push(JSON.parse(event.data));
  ws.onclose = (event) => closed.resolve(event);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return {
    ws,
    frames,
    events: () => frames.filter((f) => f.type === "event"),
    async subscribe(topic: string) {
      ws.send(JSON.stringify({ type: "subscribe", topic }));
      await waitFor(
        () => frames.some((f) => f.type === "subscribed" && f.topic === topic),
        "subscribed",
      );
    },
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close(1000, "done");
      await closed.promise;
    },
  };
}

// A client frame must be masked (RFC 6455 §5.3); the raw client has to build it by hand.
function maskedTextFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  assert.ok(payload.length < 126, "short frames only");
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(2 + 4 + payload.length);
  frame[0] = 0x81; // FIN + text
  frame[1] = 0x80 | payload.length; // MASK bit + 7-bit length
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
  return frame;
}

/** Opens a WebSocket by hand over TCP and reads only the 101 response headers. */
async function openRawClient(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let head: Uint8Array = new Uint8Array(0);
  let end = -1;
  while (end < 0) {
    const chunk = new Uint8Array(1024);
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed during the handshake");
    head = concat(head, chunk.subarray(0, n));
    end = new TextDecoder().decode(head).indexOf("\r\n\r\n");
  }
  const headers = new TextDecoder().decode(head.subarray(0, end));
  assert.match(headers, /^HTTP\/1\.1 101 /);
  return { conn, leftover: head.subarray(end + 4) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads server frames until a close frame; returns the text payloads and the close code. */
async function readUntilClose(conn: Deno.Conn, leftover: Uint8Array) {
  const texts: string[] = [];
  let data: Uint8Array = leftover;
  const chunk = new Uint8Array(1 << 16);
  while (true) {
    while (data.length >= 2) {
      const opcode = data[0] & 0x0f;
      let length = data[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (data.length < 4) break;
        length = (data[2] << 8) | data[3];
        offset = 4;
      } else if (length === 127) {
        if (data.length < 10) break;
        length = Number(new DataView(data.buffer, data.byteOffset + 2, 8).getBigUint64(0));
        offset = 10;
      }
      if (data.length < offset + length) break;
      const payload = data.subarray(offset, offset + length);
      data = data.subarray(offset + length);
      if (opcode === 0x1) texts.push(new TextDecoder().decode(payload));
      if (opcode === 0x8) {
        return {
          texts,
          code: (payload[0] << 8) | payload[1],
          reason: new TextDecoder().decode(payload.subarray(2)),
        };
      }
    }
    const n = await conn.read(chunk);
    if (n === null) return { texts, code: -1, reason: "EOF without a close frame" };
    data = concat(data, chunk.subarray(0, n));
  }
}

Deno.test("createRealtimeHub() over Deno.serve delivers published events to a WebSocket client", async () => {
  await using t = startServer();
  const client = await openClient(t.port);
  try {
    await client.subscribe("org:o1:hosts");
    client.ws.send(JSON.stringify({ type: "subscribe", topic: "org:o2:hosts" }));
    client.ws.send(JSON.stringify({ type: "ping", id: "p" }));
    await waitFor(() => client.frames.some((f) => f.type === "pong"), "pong");
    assert.equal(client.frames.find((f) => f.type === "error")?.code, "forbidden");
    for (let i = 0; i < 5; i++) await t.hub.publish("org:o1:hosts", { i });
    await t.hub.publish("org:o2:hosts", { secret: true });
    await waitFor(() => client.events().length === 5, "five events");
    assert.deepEqual(client.events().map((e) => e.data), [0, 1, 2, 3, 4].map((i) => ({ i })));
    assert.deepEqual(t.hub.stats(), { clients: 1, subscriptions: 1 });
  } finally {
    await client.close();
  }
  await waitFor(() => t.hub.stats().clients === 0, "the hub to notice the close");
});

Deno.test("createRealtimeHub() over Deno.serve closes a client that never reads with 1013, others get every event", async () => {
  const closes: number[] = [];
  await using t = startServer({ onClientClosed: ({ code }) => closes.push(code) });
  const topic = "org:o1:flood";
  const reader = await openClient(t.port);
  const raw = await openRawClient(t.port);
  try {
    await reader.subscribe(topic);
    await raw.conn.write(maskedTextFrame(JSON.stringify({ type: "subscribe", topic })));
    await waitFor(() => t.hub.stats().subscriptions === 2, "both clients subscribed");
    const stalled = t.serverSockets[1];

    const pad = "x".repeat(3000);
    const started = Date.now();
    let published = 0;
    let maxBuffered = 0;
    // The reader keeps up (the test waits for it when it falls behind by 200 events, about 600 KB,
    // well under the high-water mark), so only the stalled client can overflow.
    while (!closes.includes(1013)) {
      assert.ok(published < 20_000, "the stalled client was never closed");
      assert.ok(Date.now() - started < 15_000, "the stalled client was not closed in time");
      maxBuffered = Math.max(maxBuffered, stalled.bufferedAmount);
      for (let i = 0; i < 50; i++) await t.hub.publish(topic, { seq: published++, pad });
      await waitFor(() => reader.events().length >= published - 200, "the reader to catch up");
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const overflowAt = published;
    // Events after the overflow still reach the reader.
    for (let i = 0; i < 20; i++) await t.hub.publish(topic, { seq: published++, pad });

    assert.deepEqual(closes, [1013]);
    assert.deepEqual(t.hub.stats(), { clients: 1, subscriptions: 1 });
    // Deno's server WebSocket does report the bytes it could not write yet: the queue relies on it.
    assert.ok(
      maxBuffered >= 1024 * 1024,
      `bufferedAmount of the stalled socket peaked at ${maxBuffered} bytes`,
    );
    console.log(
      `stalled client closed after ${overflowAt} events (${Date.now() - started} ms), ` +
        `bufferedAmount peaked at ${maxBuffered} bytes`,
    );

    await waitFor(() => reader.events().length === published, "every event at the reader");
    assert.deepEqual(
      reader.events().map((e) => (e.data as { seq: number }).seq),
      Array.from({ length: published }, (_, i) => i),
    );

    // Reading now, the stalled client finds an unbroken prefix of the events, then the close frame.
    const { texts, code, reason } = await readUntilClose(raw.conn, raw.leftover);
    assert.equal(code, 1013, reason);
    assert.equal(reason, "queue overflow");
    const frames = texts.map((text) => JSON.parse(text));
    assert.deepEqual(frames[0], { type: "subscribed", topic });
    const seqs = frames.slice(1).map((f) => f.data.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i));
    assert.ok(seqs.length < overflowAt, "events after the overflow were not sent to it");
  } finally {
    raw.conn.close();
    await reader.close();
  }
});
