/**
 * The hub's V8 heap is sized deliberately: `deno task start` starts it at the default, and
 * CAPSTAN_MAX_HEAP_MB (here without the task's flag) makes main.ts run itself again with the
 * size asked for, passing signals on. The hub logs the limit it runs with.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Starts a hub with `args`, waits for its "listening on" line, returns its heap limit, stops it. */
async function heapOfHub(args: string[], env: Record<string, string>) {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-heap-" });
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: {
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_PORT: "0",
      CAPSTAN_LOCAL_AGENT: "0",
      CAPSTAN_LOG_LEVEL: "info",
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  try {
    let text = "";
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    let line: string | undefined;
    while (!line) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the hub exited before listening:\n${text}`);
      text += decoder.decode(value, { stream: true });
      line = text.split("\n").find((l) => l.includes("listening on"));
    }
    reader.releaseLock();
    void child.stderr.cancel().catch(() => {});
    const limit = Number(/"heap_limit_mb":(\d+)/.exec(line)?.[1]);
    child.kill("SIGTERM");
    const status = await child.status;
    return { limit, status };
  } finally {
    clearTimeout(timer);
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

Deno.test("[e2e] `deno task start` runs the hub with a 256 MB old space", async () => {
  const r = await heapOfHub(["task", "--quiet", "start"], {});
  assert.ok(r.limit >= 256 && r.limit <= 256 + 128, `heap limit ${r.limit} MB`);
  assert.equal(r.status.code, 0, "stops cleanly on SIGTERM");
});

Deno.test("[e2e] CAPSTAN_MAX_HEAP_MB sizes the heap; signals reach the hub through the re-run", async () => {
  const r = await heapOfHub(["run", "-A", "main.ts"], { CAPSTAN_MAX_HEAP_MB: "200" });
  assert.ok(r.limit >= 200 && r.limit <= 200 + 128, `heap limit ${r.limit} MB`);
  assert.equal(r.status.code, 0, "SIGTERM passed on; the hub stopped cleanly");
});
