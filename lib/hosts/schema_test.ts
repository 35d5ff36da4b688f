import assert from "node:assert/strict";
import { HostName, labelLines, parseLabelLines } from "./schema.ts";
import { HOSTILE_NAMES } from "../docker/testing.ts";
import { formatBytes } from "./view.ts";

Deno.test("HostName refuses hostile names and allows Docker-like ones up to 64", () => {
  for (const n of HOSTILE_NAMES) assert.equal(HostName.safeParse(n).success, false, n);
  for (const n of ["web-1", "db.prod", "A_b", "x".repeat(64)]) {
    assert.ok(HostName.safeParse(n).success);
  }
});

Deno.test("parseLabelLines() reads key=value lines and names the bad line", () => {
  assert.deepEqual(parseLabelLines("env=prod\n\n role = web \r\nempty="), {
    ok: true,
    labels: { env: "prod", role: "web", empty: "" },
  });
  assert.deepEqual(parseLabelLines("a=1\nnope"), {
    ok: false,
    error: "line 2: write labels as key=value",
  });
  assert.equal(parseLabelLines("a=1\na=2").ok, false);
  assert.equal(parseLabelLines("bad key=1").ok, false);
  assert.equal(
    parseLabelLines(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join("\n")).ok,
    false,
  );
  assert.equal(labelLines({ a: "1", b: "x=y" }), "a=1\nb=x=y");
  assert.deepEqual(parseLabelLines(labelLines({ a: "1", b: "x=y" })), {
    ok: true,
    labels: { a: "1", b: "x=y" },
  });
});

Deno.test("formatBytes() uses binary units", () => {
  assert.equal(formatBytes(16 * 2 ** 30), "16 GiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(null), "—");
});
