import assert from "node:assert/strict";
import { tokenHash } from "./token_hash.ts";
import { randomToken, sha256Hex } from "./ids.ts";

Deno.test("tokenHash() is the same hex SHA-256 as sha256Hex()", async () => {
  assert.equal(
    await tokenHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  for (const text of ["", "caph_x", "ü€😀", randomToken("cap_")]) {
    assert.equal(await tokenHash(text), await sha256Hex(text));
  }
});
