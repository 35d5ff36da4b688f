import { csvField } from "./service.ts";
import assert from "node:assert/strict";
import {
  CORE_HOUR,
  FREE_PLAN,
  GIB_HOUR,
  HOUR_MS,
  lineItems,
  meterHour,
  priceOf,
  type Segment,
} from "./meter.ts";

const H = Date.UTC(2026, 0, 1, 12);
const GIB = 2 ** 30;
const seg = (p: Partial<Segment>): Segment => ({
  app_id: "a",
  service: "web",
  replicas: 1,
  cpu_millis: 1000,
  memory_bytes: GIB,
  started_at: H,
  ended_at: null,
  ...p,
});

Deno.test("meterHour() clips segments at the hour's edges, to the second", () => {
  const u = meterHour([
    // Began the hour before, ended 10 min in: 600 s of 2 × 500 millicores.
    seg({
      replicas: 2,
      cpu_millis: 500,
      memory_bytes: 0,
      started_at: H - 1000,
      ended_at: H + 600_000,
    }),
    // Began 10 min in and still runs: 3000 s.
    seg({ replicas: 1, cpu_millis: 250, memory_bytes: GIB, started_at: H + 600_000 }),
    // Another app, within the hour, milliseconds floored: [H+10.9 s, H+20.2 s) is 10 s.
    seg({ app_id: "b", started_at: H + 10_900, ended_at: H + 20_200 }),
    // Outside the hour: nothing.
    seg({ app_id: "c", started_at: H - 5000, ended_at: H }),
    seg({ app_id: "c", started_at: H + HOUR_MS }),
  ], H);
  assert.deepEqual(u, [
    {
      app_id: "a",
      cpu_millicore_s: 2n * 500n * 600n + 250n * 3000n,
      memory_byte_s: BigInt(GIB) * 3000n,
    },
    { app_id: "b", cpu_millicore_s: 1000n * 10n, memory_byte_s: BigInt(GIB) * 10n },
  ]);
  assert.throws(() => meterHour([], H + 1), /not the start of an hour/);
});

Deno.test("meterHour() keeps byte-seconds exact past 2^53", () => {
  const big = 2 ** 50; // the spec's largest reservation
  const [u] = meterHour([seg({ replicas: 100, memory_bytes: big, started_at: H - HOUR_MS })], H);
  assert.equal(u.memory_byte_s, 100n * BigInt(big) * 3600n);
});

Deno.test("priceOf() rounds once, half-up, from the exact product", () => {
  assert.equal(priceOf(CORE_HOUR / 2n, 1, CORE_HOUR), 1n, "0.5 rounds up");
  assert.equal(priceOf(CORE_HOUR / 2n - 1n, 1, CORE_HOUR), 0n, "just under 0.5 rounds down");
  assert.equal(priceOf(3n * CORE_HOUR, 7, CORE_HOUR), 21n);
  // 1 GiB for 1 s at 1,000,000 minor units per GiB-hour = 277.77… → 278.
  assert.equal(priceOf(BigInt(GIB), 1_000_000, GIB_HOUR), 278n);
});

Deno.test("lineItems() prices each app and resource, skipping nothing used", () => {
  const plan = { ...FREE_PLAN, currency: "EUR", cpu_core_hour: 4, memory_gib_hour: 1 };
  const items = lineItems(
    meterHour([
      seg({ replicas: 3, cpu_millis: 500, memory_bytes: 2 * GIB, started_at: H - HOUR_MS }),
      seg({ app_id: "b", memory_bytes: 0, started_at: H }),
    ], H),
    plan,
  );
  assert.deepEqual(items, [
    // 1.5 core-hours × 4 = 6; 6 GiB-hours × 1 = 6.
    { app_id: "a", resource: "cpu", quantity: 1500n * 3600n, unit_price: 4, amount: 6 },
    {
      app_id: "a",
      resource: "memory",
      quantity: 6n * BigInt(GIB) * 3600n,
      unit_price: 1,
      amount: 6,
    },
    { app_id: "b", resource: "cpu", quantity: 1000n * 3600n, unit_price: 4, amount: 4 },
  ]);
});

Deno.test("csvField: quotes separators, quotes and line breaks; defuses formula starts", () => {
  assert.equal(csvField("app-1"), "app-1");
  assert.equal(csvField(-210), "-210");
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField("x\ny"), '"x\ny"');
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField("-1,2"), `"'-1,2"`);
});
