import assert from "node:assert/strict";
import { constantTimeEqual, randomToken, sha256Hex, uuidv7 } from "./ids.ts";

Deno.test("uuidv7() is a valid v7 UUID and strictly increasing within one millisecond", () => {
  const ids = Array.from({ length: 5000 }, () => uuidv7(1_800_000_000_000));
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  assert.deepEqual(ids, [...ids].sort());
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("randomToken() and sha256Hex() shapes", async () => {
  assert.match(randomToken("cap_"), /^cap_[\w-]{43}$/);
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("constantTimeEqual() compares whole strings", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
});
