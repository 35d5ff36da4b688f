import assert from "node:assert/strict";
import { ResultBuffer } from "./result_buffer.ts";

const result = (at: number) => ({
  check_id: "0190c7c2-7a8b-7c6d-9e0f-123456789abc",
  at,
  ok: true,
  response_ms: 1,
});

Deno.test("ResultBuffer drops the oldest when full and counts the drops", () => {
  const b = new ResultBuffer(3);
  for (let i = 0; i < 5; i++) b.push(result(i));
  assert.equal(b.size, 3);
  assert.equal(b.dropped, 2);
  assert.deepEqual(b.peek(10).map((r) => r.at), [2, 3, 4]);
});

Deno.test("ResultBuffer keeps what was peeked until taken", () => {
  const b = new ResultBuffer(5000);
  for (let i = 0; i < 3000; i++) b.push(result(i));
  assert.deepEqual(b.peek(2).map((r) => r.at), [0, 1]);
  assert.equal(b.size, 3000);
  b.take(1000);
  assert.equal(b.peek(1)[0].at, 1000);
  for (let i = 3000; i < 7000; i++) b.push(result(i));
  assert.equal(b.size, 5000);
  assert.equal(b.dropped, 1000);
  assert.equal(b.peek(1)[0].at, 2000);
  b.take(10_000);
  assert.equal(b.size, 0);
});
