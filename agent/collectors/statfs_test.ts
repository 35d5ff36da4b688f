import assert from "node:assert/strict";
import { statfs as nodeStatfs } from "node:fs/promises";
import { createStatfs, libcStatfs } from "./statfs.ts";
import type { FsStats } from "./filesystems.ts";

/** The fixed fields agree; free counts may move between two calls on a busy machine. */
async function assertLikeNode(got: FsStats, path: string) {
  const want: FsStats = await nodeStatfs(path);
  for (const k of ["bsize", "blocks", "files"] as const) assert.equal(got[k], want[k], k);
  for (const k of ["bfree", "bavail", "ffree"] as const) {
    assert.ok(
      Math.abs(got[k] - want[k]) <= Math.max(1000, want[k] * 0.01),
      `${k}: ${got[k]} vs ${want[k]}`,
    );
  }
}

Deno.test("libcStatfs() answers as node:fs statfs, and rejects for a path that is not there", async () => {
  const statfs = libcStatfs();
  assert.ok(statfs, "FFI is allowed in tests (-A)");
  for (const path of ["/", Deno.cwd()]) await assertLikeNode(await statfs(path), path);
  await assert.rejects(() => statfs("/no/such/path"), /statfs \/no\/such\/path failed/);
});

// Last in this file: it takes the FFI permission away from the test process.
Deno.test("createStatfs() falls back to node:fs where FFI is not allowed", async () => {
  Deno.permissions.revokeSync({ name: "ffi" });
  assert.equal(libcStatfs(), undefined);
  await assertLikeNode(await createStatfs()("/"), "/");
});
