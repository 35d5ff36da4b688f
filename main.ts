import { ConfigError, loadConfig } from "./lib/config.ts";
import { StartupError } from "./lib/startup_error.ts";
import { exitWithParent, heapLimitMb, heapMatches, rerunWithHeap } from "./lib/heap.ts";

// Composition root: config → heap size → hub (db, migrations, services, HTTP, jobs) → wait for a
// signal. The hub's modules load only once the heap is right: a re-run parent stays small.
try {
  const config = loadConfig();
  exitWithParent();
  if (config.maxHeapMb !== undefined && !heapMatches(config.maxHeapMb)) {
    const code = await rerunWithHeap(config.maxHeapMb);
    if (code !== undefined) Deno.exit(code);
    console.error(
      `heap: running with V8's limit of ${heapLimitMb()} MB, not CAPSTAN_MAX_HEAP_MB=${config.maxHeapMb}; ` +
        `start with --v8-flags=--max-old-space-size=${config.maxHeapMb}`,
    );
  }
  const { startHub } = await import("./hub.ts");
  // Signals are taken as the hub starts, not once it has: it logs "listening on" before its jobs
  // are up, and a SIGTERM in that window must stop it cleanly once started, not kill it with the
  // default action. (startHub runs synchronously up to its first await, so no signal falls between.)
  const starting = startHub(config);
  const stop = async () => {
    let hub;
    try {
      hub = await starting;
    } catch {
      return; // it did not start: the catch below reports why
    }
    await hub.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await starting;
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    Deno.exit(2);
  }
  // A database, address or directory to fix: one line naming it, no stack trace.
  if (err instanceof StartupError) {
    console.error(err.message);
    Deno.exit(1);
  }
  throw err;
}
