import assert from "node:assert/strict";
import { DUMMY_HASH, hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "./password.ts";

Deno.test("hashPassword() uses PBKDF2-SHA256 with at least 600,000 iterations and a random salt", async () => {
  const a = await hashPassword("correct horse battery");
  const b = await hashPassword("correct horse battery");
  assert.ok(PBKDF2_ITERATIONS >= 600_000);
  assert.match(a, /^pbkdf2-sha256\$600000\$[\w-]{22}\$[\w-]{43}$/);
  assert.notEqual(a, b);
});

Deno.test("verifyPassword() accepts the right password and rejects others", async () => {
  const h = await hashPassword("correct horse battery");
  assert.equal(await verifyPassword("correct horse battery", h), true);
  assert.equal(await verifyPassword("correct horse batterY", h), false);
  assert.equal(await verifyPassword("", h), false);
});

Deno.test("verifyPassword() refuses malformed and weak hashes", async () => {
  assert.equal(await verifyPassword("x", DUMMY_HASH), false);
  assert.equal(await verifyPassword("x", "plain"), false);
  const weak = (await hashPassword("x")).replace("$600000$", "$1000$");
  assert.equal(await verifyPassword("x", weak), false);
});
