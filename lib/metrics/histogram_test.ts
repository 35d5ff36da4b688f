import assert from "node:assert/strict";
import {
  add,
  decode,
  encode,
  type Histogram,
  merge,
  quantile,
  RELATIVE_ACCURACY,
} from "./histogram.ts";

function exactQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))];
}

function seeded(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) % 2 ** 32;
    return seed / 2 ** 32;
  };
}

Deno.test("quantile() is within the stated relative error of the exact value, for several distributions", () => {
  const rnd = seeded(42);
  const shapes: Record<string, () => number> = {
    uniform_pct: () => rnd() * 100,
    exponential_bytes: () => -Math.log(1 - rnd()) * 5e8,
    spiky_cpu: () => (rnd() < 0.97 ? rnd() * 5 : 80 + rnd() * 20),
    with_zeros: () => (rnd() < 0.3 ? 0 : rnd() * 10),
  };
  for (const [name, gen] of Object.entries(shapes)) {
    const values = Array.from({ length: 20_000 }, gen);
    const h: Histogram = new Map();
    for (const v of values) add(h, v);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(values, q);
      const est = quantile(h, q)!;
      const err = exact === 0 ? Math.abs(est) : Math.abs(est - exact) / exact;
      assert.ok(
        err <= RELATIVE_ACCURACY + 1e-12,
        `${name} q${q}: exact ${exact}, estimate ${est}, error ${err}`,
      );
    }
  }
});

Deno.test("merge() of minute sketches equals one sketch of all values (rollups compose)", () => {
  const rnd = seeded(7);
  const all: Histogram = new Map();
  const merged: Histogram = new Map();
  for (let minute = 0; minute < 60; minute++) {
    const m: Histogram = new Map();
    for (let i = 0; i < 60; i++) {
      const v = rnd() * 100;
      add(m, v);
      add(all, v);
    }
    merge(merged, decode(encode(m)));
  }
  assert.deepEqual([...merged.entries()].sort(), [...all.entries()].sort());
  assert.equal(quantile(merged, 0.95), quantile(all, 0.95));
});

Deno.test("quantile() handles empty, single and negative values", () => {
  assert.equal(quantile(new Map(), 0.5), null);
  const h: Histogram = new Map();
  add(h, 42);
  assert.ok(Math.abs(quantile(h, 0.95)! - 42) / 42 <= RELATIVE_ACCURACY);
  const n: Histogram = new Map();
  for (const v of [-10, -5, 0, 5, 10]) add(n, v);
  assert.ok(Math.abs(quantile(n, 0)! + 10) <= 0.1);
  assert.equal(quantile(n, 0.5), 0);
});
