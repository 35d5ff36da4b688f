import assert from "node:assert/strict";
import { money, parseMoney } from "./money.ts";

Deno.test("money formats and parses minor units exactly, with the currency's decimals", () => {
  assert.equal(money(-1234, "EUR"), "-12.34 EUR");
  assert.equal(money(5, "EUR"), "0.05 EUR");
  assert.equal(money(123456789, "EUR"), "1\u202f234\u202f567.89 EUR");
  assert.equal(money(500, "JPY"), "500 JPY");
  assert.equal(parseMoney("50", "EUR"), 5000);
  assert.equal(parseMoney("0.1", "EUR"), 10);
  assert.equal(parseMoney("-3,25", "EUR"), -325);
  assert.equal(parseMoney("1.005", "EUR"), undefined);
  assert.equal(parseMoney("1e3", "EUR"), undefined);
  assert.equal(parseMoney("12", "JPY"), 12);
  assert.equal(parseMoney("1.5", "JPY"), undefined);
});
