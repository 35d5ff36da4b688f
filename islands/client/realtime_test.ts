import assert from "node:assert/strict";
import type { Topic } from "../../lib/realtime/topics.ts";
import { createRealtimeClient, type LiveSocket, type LiveState } from "./realtime.ts";

/** A socket the test drives: it opens, answers and closes when told. */
class FakeLiveSocket implements LiveSocket {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  sent: Record<string, unknown>[] = [];
  closed = false;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  /** Sent messages of `type`, as their topics. */
  topics(type: string): unknown[] {
    return this.sent.filter((m) => m.type === type).map((m) => m.topic);
  }
  /** The hub answers every subscribe sent so far that it has not answered yet. */
  confirmAll(from = 0): number {
    const asks = this.sent.slice(from).filter((m) => m.type === "subscribe");
    for (const m of asks) this.frame({ type: "subscribed", topic: m.topic });
    return this.sent.length;
  }
  frame(message: unknown): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(message) }));
  }
  opened(): void {
    this.onopen?.(new Event("open"));
  }
  lost(): void {
    this.onclose?.(new CloseEvent("close", { code: 1006 }));
  }
}

function setup() {
  const sockets: FakeLiveSocket[] = [];
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const client = createRealtimeClient({
    open: () => {
      const s = new FakeLiveSocket();
      sockets.push(s);
      return s;
    },
    setTimeout: (fn, ms) => {
      timers.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (id) => void timers.delete(id as number),
  });
  /** Fires the pending timers; returns their delays. */
  const fire = () => {
    const due = [...timers.values()];
    timers.clear();
    for (const t of due) t.fn();
    return due.map((t) => t.ms);
  };
  /** An island: what it saw, and its unsubscribe. */
  const island = (topics: string[]) => {
    const states: LiveState[] = [];
    const events: [string, unknown][] = [];
    const stop = client.subscribe(topics as Topic<unknown>[], {
      event: (topic, data) => events.push([topic, data]),
      state: (s) => states.push(s),
    });
    return { states, events, stop };
  };
  return { client, sockets, fire, island };
}

Deno.test("createRealtimeClient() serves every island of a page over one socket", () => {
  const t = setup();
  const charts = t.island(["org:o1:metrics.h1"]);
  const status = t.island(["org:o1:hosts"]);
  const bell = t.island(["org:o1:alerts", "org:o1:hosts"]);
  assert.equal(t.sockets.length, 1);
  const ws = t.sockets[0];
  ws.opened();
  // Each topic once, however many islands want it.
  assert.deepEqual(ws.topics("subscribe"), ["org:o1:metrics.h1", "org:o1:hosts", "org:o1:alerts"]);
  ws.confirmAll();
  for (const i of [charts, status, bell]) assert.deepEqual(i.states, ["connecting", "live"]);

  ws.frame({ type: "event", topic: "org:o1:hosts", data: { host_id: "h1", online: true } });
  ws.frame({ type: "event", topic: "org:o1:metrics.h1", data: 1 });
  assert.deepEqual(status.events, [["org:o1:hosts", { host_id: "h1", online: true }]]);
  assert.deepEqual(bell.events, [["org:o1:hosts", { host_id: "h1", online: true }]]);
  assert.deepEqual(charts.events, [["org:o1:metrics.h1", 1]]);

  // A late island on a topic already confirmed is live at once, without asking again.
  const late = t.island(["org:o1:hosts"]);
  assert.deepEqual(late.states, ["live"]);
  assert.equal(ws.topics("subscribe").length, 3);
  assert.equal(t.sockets.length, 1);
});

Deno.test("createRealtimeClient() unsubscribes a topic with its last island and closes with the last", () => {
  const t = setup();
  const a = t.island(["org:o1:hosts", "org:o1:alerts"]);
  const b = t.island(["org:o1:hosts"]);
  const ws = t.sockets[0];
  ws.opened();
  ws.confirmAll();
  a.stop();
  assert.deepEqual(ws.topics("unsubscribe"), ["org:o1:alerts"]);
  b.stop();
  assert.deepEqual(ws.topics("unsubscribe"), ["org:o1:alerts", "org:o1:hosts"]);
  assert.equal(ws.closed, false, "islands re-rendering in this turn keep the socket");
  t.fire();
  assert.equal(ws.closed, true);
  // The next island opens a new one.
  t.island(["org:o1:hosts"]);
  assert.equal(t.sockets.length, 2);
});

Deno.test("createRealtimeClient() keeps the socket for an island that comes back in the same turn", () => {
  const t = setup();
  const a = t.island(["org:o1:hosts"]);
  const ws = t.sockets[0];
  ws.opened();
  ws.confirmAll();
  a.stop();
  const again = t.island(["org:o1:hosts"]);
  t.fire();
  assert.equal(ws.closed, false);
  assert.equal(t.sockets.length, 1);
  const seen = ws.sent.length;
  ws.confirmAll(seen - 1);
  assert.deepEqual(again.states, ["connecting", "live"]);
});

Deno.test("createRealtimeClient() denies only the islands of a refused topic", () => {
  const t = setup();
  const audit = t.island(["org:o1:audit", "org:o1:hosts"]);
  const status = t.island(["org:o1:hosts"]);
  const ws = t.sockets[0];
  ws.opened();
  ws.frame({ type: "subscribed", topic: "org:o1:hosts" });
  ws.frame({ type: "error", code: "forbidden", message: "not allowed", topic: "org:o1:audit" });
  assert.deepEqual(audit.states, ["connecting", "denied"]);
  assert.deepEqual(status.states, ["connecting", "live"]);
  ws.frame({ type: "event", topic: "org:o1:hosts", data: 1 });
  assert.deepEqual(audit.events, []);
  assert.deepEqual(status.events, [["org:o1:hosts", 1]]);
  assert.equal(ws.closed, false);
  audit.stop(); // already ended: nothing happens
  assert.deepEqual(ws.topics("unsubscribe"), []);
});

Deno.test("createRealtimeClient() reconnects with backoff and resubscribes every topic", () => {
  const t = setup();
  const a = t.island(["org:o1:hosts"]);
  const b = t.island(["org:o1:alerts"]);
  t.sockets[0].opened();
  t.sockets[0].confirmAll();
  t.sockets[0].lost();
  assert.deepEqual(a.states, ["connecting", "live", "retrying"]);
  assert.deepEqual(t.fire(), [1000]);
  // The hub is still away: the next wait doubles.
  t.sockets[1].lost();
  assert.deepEqual(t.fire(), [2000]);
  const ws = t.sockets[2];
  ws.opened();
  assert.deepEqual(ws.topics("subscribe"), ["org:o1:hosts", "org:o1:alerts"]);
  ws.confirmAll();
  assert.deepEqual(a.states, ["connecting", "live", "retrying", "live"]);
  assert.deepEqual(b.states, ["connecting", "live", "retrying", "live"]);
  // A new island while the socket is down says so, and goes live with the rest.
  ws.lost();
  const c = t.island(["org:o1:health"]);
  assert.deepEqual(c.states, ["retrying"]);
  assert.deepEqual(t.fire(), [1000]);
  t.sockets[3].opened();
  t.sockets[3].confirmAll();
  assert.deepEqual(c.states, ["retrying", "live"]);
});

Deno.test("createRealtimeClient() keeps delivering to the other islands when one throws", () => {
  const t = setup();
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    t.client.subscribe(["org:o1:hosts"] as Topic<unknown>[], {
      event: () => {
        throw new Error("boom");
      },
      state: () => {},
    });
    const ok = t.island(["org:o1:hosts"]);
    const ws = t.sockets[0];
    ws.opened();
    ws.confirmAll();
    ws.frame({ type: "event", topic: "org:o1:hosts", data: 1 });
    assert.deepEqual(ok.events, [["org:o1:hosts", 1]]);
    assert.equal(errors.length, 1);
  } finally {
    console.error = original;
  }
});
