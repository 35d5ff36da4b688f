import assert from "node:assert/strict";
import { createEventBus } from "./events.ts";
import { silentLogger } from "./log.ts";

declare module "./events.ts" {
  interface DomainEvents {
    "test.ping": { n: number };
  }
}

Deno.test("createEventBus() behaviour: handlers run in order, a failing one is logged and skipped", () => {
  const errors: string[] = [];
  const log = { ...silentLogger, error: (msg: string) => void errors.push(msg) };
  const bus = createEventBus(log);
  const seen: string[] = [];
  bus.on("test.ping", (p) => seen.push(`a${p.n}`));
  bus.on("test.ping", () => {
    throw new Error("boom");
  });
  const off = bus.on("test.ping", (p) => seen.push(`c${p.n}`));
  bus.emit("test.ping", { n: 1 });
  off();
  bus.emit("test.ping", { n: 2 });
  assert.deepEqual(seen, ["a1", "c1", "a2"]);
  assert.deepEqual(errors, ["event handler failed", "event handler failed"]);
});

Deno.test("createEventBus() behaviour: emitAndWait waits for asynchronous handlers and logs their failures", async () => {
  const errors: string[] = [];
  const log = { ...silentLogger, error: (msg: string) => void errors.push(msg) };
  const bus = createEventBus(log);
  const seen: number[] = [];
  bus.on("test.ping", async (p) => {
    await new Promise((r) => setTimeout(r, 5));
    seen.push(p.n);
  });
  bus.on("test.ping", () => Promise.reject(new Error("late boom")));
  await bus.emitAndWait("test.ping", { n: 7 });
  assert.deepEqual(seen, [7]);
  assert.deepEqual(errors, ["event handler failed"]);
});
