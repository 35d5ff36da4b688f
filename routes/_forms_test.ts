import assert from "node:assert/strict";
import { safePath } from "./_forms.ts";

Deno.test("safePath() keeps same-site paths, normalised", () => {
  assert.equal(safePath("/o/acme/hosts?range=1h#cpu"), "/o/acme/hosts?range=1h#cpu");
  assert.equal(safePath("/o/./acme/../acme/hosts"), "/o/acme/hosts");
  assert.equal(safePath(undefined), "/");
  assert.equal(safePath("", "/home"), "/home");
});

Deno.test("safePath() refuses every path that a browser would read as another host", () => {
  const attempts = [
    "//evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "/./..//evil.example",
    "/a/..//evil.example",
    "/a/b/../..//evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/.%2e//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1",
  ];
  for (const raw of attempts) {
    const out = safePath(raw);
    assert.ok(
      out.startsWith("/") && !out.startsWith("//") && !out.includes("\\") &&
        !out.includes("evil.example"),
      `${JSON.stringify(raw)} → ${JSON.stringify(out)}`,
    );
  }
});
