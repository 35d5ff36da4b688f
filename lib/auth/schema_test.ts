import assert from "node:assert/strict";
import { passwordSchema } from "./schema.ts";
import { isCommonPassword } from "./common_passwords.ts";

const message = (password: string) => {
  const r = passwordSchema.safeParse(password);
  return r.success ? undefined : r.error.issues[0].message;
};

Deno.test("passwordSchema refuses common passwords whatever their case, with a sentence", () => {
  for (const p of ["qwertyuiop", "Password123", "1q2w3e4r5t", "ILOVEYOU12"]) {
    assert.match(message(p) ?? "", /too common/, p);
  }
  assert.equal(isCommonPassword("1234567890"), true);
  assert.equal(isCommonPassword("correct-horse-battery"), false);
});

Deno.test("passwordSchema refuses one character repeated, and keeps the length rules", () => {
  for (const p of ["zzzzzzzzzzzzzz", "............", "ééééééééééé"]) {
    assert.equal(message(p), "must not be one character repeated", p);
  }
  assert.equal(message("short"), "must be at least 10 characters");
  assert.equal(message("x".repeat(300)), "must be at most 256 characters");
  assert.equal(message("correct-horse-battery"), undefined);
});
