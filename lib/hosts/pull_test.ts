import assert from "node:assert/strict";
import { startPull } from "./pull.ts";
import type { OperateDeps } from "./operate.ts";
import type { DomainError } from "../errors.ts";
import { fromWireError } from "../agents/connection.ts";
import { statusOf } from "../../tests/support/errors.ts";

/** A scripted agent stream: yields `chunks`, then ends (or fails), or waits until cancelled. */
function fakeDeps(script: { chunks: unknown[]; end: "ok" | "fail" | "hang" }) {
  const rows: { action: string; status: string; error?: string; ms: number }[] = [];
  let cancelled = false;
  const stream = {
    cancel() {
      cancelled = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (const c of script.chunks) {
        if (cancelled) return;
        yield c;
      }
      if (script.end === "fail") {
        throw fromWireError({
          status: 500,
          code: "engine_error",
          message: "Cannot pull x: denied",
        });
      }
      // Like the real stream: a cancel before or during the wait ends it.
      if (script.end === "hang" && !cancelled) await new Promise<void>((r) => (wake = r));
    },
  };
  let wake: (() => void) | undefined;
  const deps = {
    hosts: { get: () => Promise.resolve({ id: "h1", name: "edge" }) },
    agents: { require: () => ({ stream: () => stream }) },
    audit: {
      async run<T>(_c: unknown, action: string, _i: unknown, fn: () => Promise<T>) {
        const t0 = performance.now();
        try {
          const r = await fn();
          rows.push({ action, status: "ok", ms: performance.now() - t0 });
          return r;
        } catch (err) {
          rows.push({ action, status: "error", error: (err as Error).message, ms: 0 });
          throw err;
        }
      },
    },
  } as unknown as OperateDeps;
  return { deps, rows, cancelled: () => cancelled };
}

const caller = {
  ctx: { actor: { type: "system" as const } },
  orgId: "o1",
  role: "member" as const,
};
const progress = { status: "Downloading", id: "l1", progressDetail: { current: 1, total: 2 } };

Deno.test("startPull() behaviour: relays progress, ends with done, audits ok once", async () => {
  const f = fakeDeps({
    chunks: [progress, { status: "Status: Downloaded newer image for x" }],
    end: "ok",
  });
  const pull = await startPull(f.deps, caller, "h1", "x");
  const events = [];
  for await (const e of pull.events) events.push(e);
  assert.deepEqual(events.map((e) => e.type), ["progress", "progress", "done"]);
  assert.deepEqual(events.at(-1), {
    type: "done",
    ref: "x",
    status: "Status: Downloaded newer image for x",
  });
  assert.deepEqual(f.rows.map((r) => r.status), ["ok"]);
});

Deno.test("startPull() behaviour: an engine failure is the last event and an error row", async () => {
  const f = fakeDeps({ chunks: [progress], end: "fail" });
  const pull = await startPull(f.deps, caller, "h1", "x");
  const events = [];
  for await (const e of pull.events) events.push(e);
  assert.deepEqual(events.at(-1), {
    type: "error",
    status: 500,
    code: "engine_error",
    message: "Cannot pull x: denied",
  });
  assert.deepEqual(f.rows.map((r) => r.status), ["error"]);
});

Deno.test("startPull() behaviour: cancel() stops the agent stream and is audited as cancelled", async () => {
  const f = fakeDeps({ chunks: [progress], end: "hang" });
  const pull = await startPull(f.deps, caller, "h1", "x");
  const it = pull.events[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.type, "progress");
  pull.cancel();
  const last = await it.next();
  assert.equal(last.value?.type, "error");
  assert.ok(f.cancelled());
  assert.equal(f.rows.length, 1);
  assert.match(f.rows[0].error!, /cancelled: the client went away/);
});

Deno.test("startPull() behaviour: a time limit cancels a pull that does not finish", async () => {
  const f = fakeDeps({ chunks: [], end: "hang" });
  const pull = await startPull(f.deps, caller, "h1", "x", { timeoutMs: 30 });
  const events = [];
  for await (const e of pull.events) events.push(e);
  assert.equal(events.at(-1)?.type, "error");
  assert.match((events.at(-1) as { message: string }).message, /did not finish/);
  assert.equal(f.rows[0].status, "error");
});

Deno.test("startPull() behaviour: a consumer that stops reading still leaves one row", async () => {
  const f = fakeDeps({ chunks: [progress, progress], end: "hang" });
  const pull = await startPull(f.deps, caller, "h1", "x");
  for await (const _ of pull.events) break;
  assert.ok(f.cancelled());
  assert.equal(f.rows.length, 1);
  assert.equal(f.rows[0].status, "error");
});

Deno.test("startPull() behaviour: a bad reference is a 400 before anything is audited", async () => {
  const f = fakeDeps({ chunks: [], end: "ok" });
  await assert.rejects(
    startPull(f.deps, caller, "h1", "; rm -rf /"),
    (e: DomainError) => statusOf(e) === 400 && e.fields?.ref !== undefined,
  );
  assert.equal(f.rows.length, 0);
});
