import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { planFiles, writeFiles } from "./snapshots_bench.ts";

const BLOCK = 4096;

/** The sha-1 of every 4 KiB block of `data` (a repeat at this size would repeat restic's chunks). */
function blockHashes(data: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at + BLOCK <= data.length; at += BLOCK) {
    out.push(createHash("sha1").update(data.subarray(at, at + BLOCK)).digest("hex"));
  }
  return out;
}

Deno.test("planFiles() sizes add up to the total exactly, text every fourth file", () => {
  const total = 1024 * 1024 * 1024;
  const files = planFiles(total, 300);
  assert.equal(files.length, 300);
  assert.equal(files.reduce((a, f) => a + f.size, 0), total);
  assert.ok(files.every((f) => f.size > 0));
  assert.equal(new Set(files.map((f) => f.path)).size, 300);
  assert.equal(files.filter((f) => f.text).length, 75);
  // Varying sizes: the largest is hundreds of times the smallest.
  const sizes = files.map((f) => f.size);
  assert.ok(Math.max(...sizes) > 200 * Math.min(...sizes));
});

Deno.test("writeFiles() writes the planned sizes, no block repeats, text compresses and the rest does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-snapshots-bench-test-" });
  try {
    const files = planFiles(6 * 1024 * 1024, 12);
    await writeFiles(dir, files);
    const seen = new Set<string>();
    for (const f of files) {
      const data = await Deno.readFile(join(dir, f.path));
      assert.equal(data.length, f.size, f.path);
      for (const h of blockHashes(data)) {
        assert.ok(!seen.has(h), `a 4 KiB block of ${f.path} repeats`);
        seen.add(h);
      }
      if (data.length < 64 * 1024) continue;
      const ratio = gzipSync(data).length / data.length;
      if (f.text) assert.ok(ratio < 0.7, `${f.path} compresses to ${ratio}`);
      else assert.ok(ratio > 0.99, `${f.path} compresses to ${ratio}`);
    }
    // Rewriting with another seed shares no block with what was there.
    const changed = files.slice(0, 3);
    await writeFiles(dir, changed, 7);
    for (const f of changed) {
      const data = await Deno.readFile(join(dir, f.path));
      assert.equal(data.length, f.size);
      assert.ok(blockHashes(data).every((h) => !seen.has(h)), `${f.path} kept old content`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
