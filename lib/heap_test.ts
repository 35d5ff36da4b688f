import assert from "node:assert/strict";
import { ConfigError, DEFAULT_MAX_HEAP_MB, loadConfig } from "./config.ts";
import { heapMatches } from "./heap.ts";

Deno.test("CAPSTAN_MAX_HEAP_MB: unset keeps the heap the hub was started with, nonsense refused", () => {
  assert.equal(loadConfig({}).maxHeapMb, undefined);
  assert.equal(loadConfig({ CAPSTAN_MAX_HEAP_MB: "1024" }).maxHeapMb, 1024);
  assert.throws(
    () => loadConfig({ CAPSTAN_MAX_HEAP_MB: "12" }),
    (e) => e instanceof ConfigError && /CAPSTAN_MAX_HEAP_MB="12" is invalid/.test(e.message),
  );
});

Deno.test("heapMatches() compares V8's limit (old space + young generation) with the setting", () => {
  assert.equal(heapMatches(256, 352), true);
  assert.equal(heapMatches(256, 4192), false, "V8's default on a 16 GB machine");
  assert.equal(heapMatches(1024, 352), false);
});

Deno.test("`deno task start` sizes the heap to the default, so it runs as one process", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(config.tasks.start, new RegExp(`--max-old-space-size=${DEFAULT_MAX_HEAP_MB} `));
});
