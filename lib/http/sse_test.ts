import assert from "node:assert/strict";
import { sseEvent, sseResponse } from "./sse.ts";

Deno.test("sseResponse() streams events with heartbeats and cleans up when the client leaves", async () => {
  let closed = 0;
  let produced = 0;
  async function* events(): AsyncGenerator<string, void> {
    yield sseEvent("hello", { n: 1 });
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      produced++;
      yield sseEvent("tick", produced);
    }
  }
  const res = sseResponse(events(), { heartbeatMs: 5, onClose: () => closed++ });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("event: tick") || !text.includes(": keep-alive")) {
    text += (await reader.read()).value ?? "";
  }
  assert.ok(text.startsWith("retry: 3000\n\n"));
  assert.match(text, /event: hello\ndata: \{"n":1\}\n\n/);
  await reader.cancel();
  assert.equal(closed, 1);
  const after = produced;
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(produced <= after + 1, "the producer stops with the client");
});

Deno.test("sseResponse() ends the body when the source ends, and on abort", async () => {
  let closed = 0;
  const done = sseResponse(
    (async function* () {
      yield sseEvent("end", { code: "ended" });
    })(),
    { onClose: () => closed++ },
  );
  assert.match(await done.text(), /event: end\ndata: \{"code":"ended"\}\n\n$/);
  assert.equal(closed, 1);

  const ac = new AbortController();
  const aborted = sseResponse(
    (async function* () {
      await new Promise(() => {}); // never settles, so the yield below is never reached
      yield "";
    })(),
    { signal: ac.signal, onClose: () => closed++ },
  );
  const reading = aborted.text();
  ac.abort();
  assert.equal(await reading, "retry: 3000\n\n");
  assert.equal(closed, 2);
});
