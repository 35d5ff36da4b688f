import assert from "node:assert/strict";
import { createDockerRootCollector, measureTree } from "./docker_root.ts";

async function tree(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/a/b`, { recursive: true });
  await Deno.writeFile(`${dir}/a/one`, new Uint8Array(10_000));
  await Deno.writeFile(`${dir}/a/b/two`, new Uint8Array(20_000));
  await Deno.link(`${dir}/a/b/two`, `${dir}/a/two-again`);
  for (let i = 0; i < 600; i++) await Deno.writeTextFile(`${dir}/a/f${i}`, "x");
  return dir;
}

Deno.test("measureTree() sums allocated bytes like du, hard links once", async () => {
  const dir = await tree();
  try {
    const r = await measureTree(dir, { dutyCycle: 1 });
    assert.equal(r.partial, false);
    assert.equal(r.files, 2 + 1 + 1 + 1 + 600); // dirs a, b; one, two, the link; 600 small files
    // 10 kB and 20 kB need at least that many blocks; the second name of `two` adds nothing.
    assert.ok(r.bytes >= 30_000 + 600 * 512, String(r.bytes));
    assert.ok(r.bytes < 30_000 + 600 * 8192 + 64 * 1024, String(r.bytes));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measureTree() stops at its file or time budget and says it is partial", async () => {
  const dir = await tree();
  try {
    const byFiles = await measureTree(dir, { fileBudget: 100 });
    assert.deepEqual([byFiles.partial, byFiles.files], [true, 100]);
    let t = 0;
    const byTime = await measureTree(dir, {
      workBudgetMs: 10,
      dutyCycle: 1,
      monotonic: () => (t += 20),
    });
    assert.equal(byTime.partial, true);
    assert.ok(byTime.files < 605);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measureTree() pauses between slices to stay under its duty cycle", async () => {
  const dir = await tree();
  try {
    // Every slice "takes" 10 ms of work; at 50% it must be followed by 10 ms of rest (4 slices).
    let t = 0;
    const started = performance.now();
    const r = await measureTree(dir, { dutyCycle: 0.5, monotonic: () => (t += 10) });
    assert.equal(r.partial, false);
    assert.ok(performance.now() - started >= 35, "rested between slices");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createDockerRootCollector() walks in the background, caches, and repeats the figure rarely", async () => {
  const dir = await tree();
  const cacheFile = `${dir}.cache.json`;
  try {
    let asked = 0;
    const path = () => (asked++, Promise.resolve(dir));
    const d = createDockerRootCollector({
      path,
      cacheFile,
      refreshMs: 300_000,
      emitEveryMs: 60_000,
      dutyCycle: 1,
    });
    assert.equal(await d.collect(0), undefined, "nothing until the first walk is done");
    let s;
    for (let i = 1; !s && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 10));
      s = await d.collect(i);
    }
    assert.ok(s && s["docker.root_bytes"] > 30_000);
    assert.equal(s["docker.root_partial"], 0);
    assert.equal(await d.collect(2_000), undefined, "not repeated every second");
    assert.equal(asked, 1, "one walk until refreshMs has passed");
    assert.equal((await d.collect(70_000))?.["docker.root_bytes"], s["docker.root_bytes"]);
    await d.close?.();
    // A restarted agent reports the cached figure at once and does not walk again before it is due.
    const before = asked;
    const e = createDockerRootCollector({ path, cacheFile, refreshMs: 300_000 });
    assert.equal((await e.collect(80_000))?.["docker.root_bytes"], s["docker.root_bytes"]);
    assert.equal(asked, before);
    await e.close?.();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheFile).catch(() => {});
  }
});

Deno.test("createDockerRootCollector() asks for the path again later when the engine is down", async () => {
  let asked = 0;
  const c = createDockerRootCollector({
    path: () => (asked++, Promise.resolve(undefined)),
    emitEveryMs: 60_000,
  });
  await c.collect(0);
  await new Promise((r) => setTimeout(r, 10));
  await c.collect(1_000);
  await c.collect(30_000);
  assert.equal(asked, 1);
  await c.collect(61_000);
  assert.equal(asked, 2);
  await c.close?.();
});
