import assert from "node:assert/strict";
import * as nodePath from "node:path";
import { dirname, join, normalize, tmpdir } from "./path.ts";

const CASES = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "/a/b/../c",
  "a/../../b",
  "../a/./b//c/",
  "/../a",
  "./a/.",
  "a/b/c/../../..",
  "a/b/c/../../../",
  "/a//b/./c/..",
  "foo/.bar/..baz",
  "./",
  "../../x/..",
];

Deno.test("normalize(), dirname() and join() answer as node:path's posix forms", () => {
  for (const c of [...CASES, "/a", "a/b", "/a/b/", "//a", "a//b//", "///"]) {
    assert.equal(normalize(c), nodePath.posix.normalize(c), `normalize(${c})`);
    assert.equal(dirname(c), nodePath.posix.dirname(c), `dirname(${c})`);
  }
  for (const a of CASES) {
    for (const b of ["", "x", "../y", "/z/", "."]) {
      assert.equal(join(a, b), nodePath.posix.join(a, b), `join(${a}, ${b})`);
    }
  }
  assert.equal(join(), nodePath.posix.join());
  assert.equal(join("/var/lib", "agent", "host-token"), "/var/lib/agent/host-token");
});

Deno.test("tmpdir() reads TMPDIR, TMP, TEMP, then /tmp, as node:os does", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(tmpdir(env({})), "/tmp");
  assert.equal(tmpdir(env({ TMPDIR: "/var/tmp/" })), "/var/tmp");
  assert.equal(tmpdir(env({ TMP: "/a", TEMP: "/b" })), "/a");
  assert.equal(tmpdir(env({ TEMP: "/b" })), "/b");
  assert.equal(tmpdir(env({ TMPDIR: "/" })), "/");
});
