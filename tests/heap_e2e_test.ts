/**
 * The hub's V8 heap is sized deliberately: `deno task start` starts it at the default, and
 * CAPSTAN_MAX_HEAP_MB (here without the task's flag) makes main.ts run itself again with the
 * size asked for, passing signals on. The hub logs the limit it runs with.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * Starts a hub with `args`, waits for its "listening on" line, returns its heap limit and the pids
 * of the process started and of its children, then stops it with `stop` (default SIGTERM).
 */
async function heapOfHub(
  args: string[],
  env: Record<string, string>,
  stop: Deno.Signal = "SIGTERM",
) {
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
    const children = (await Deno.readTextFile(`/proc/${child.pid}/task/${child.pid}/children`))
      .trim().split(/\s+/).filter(Boolean).map(Number);
    child.kill(stop);
    const status = await child.status;
    return { limit, status, children };
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

Deno.test("[e2e] CAPSTAN_MAX_HEAP_MB wins over the start flag; the re-run hub dies with its parent", async () => {
  const r = await heapOfHub(
    ["run", "-A", "--v8-flags=--max-old-space-size=256", "main.ts"],
    { CAPSTAN_MAX_HEAP_MB: "512" },
    "SIGKILL",
  );
  assert.ok(r.limit >= 512 && r.limit <= 512 + 128, `heap limit ${r.limit} MB`);
  assert.equal(r.children.length, 1, "the hub runs as the re-run child");
  const until = Date.now() + 10_000;
  while (await Deno.stat(`/proc/${r.children[0]}`).then(() => true, () => false)) {
    assert.ok(Date.now() < until, "the re-run hub outlived its killed parent");
    await new Promise((res) => setTimeout(res, 100));
  }
});
