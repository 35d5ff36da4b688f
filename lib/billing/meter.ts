/**
 * The meter: pure functions from usage segments to billed quantities of one closed hour, and from
 * quantities and a price plan to line items. Integers only: seconds, millicores, bytes, minor
 * currency units; products that can pass 2^53 (byte-seconds) are BigInt.
 */
import { z } from "zod";

/** One hour, in milliseconds. */
export const HOUR_MS = 3_600_000;
/** Millicore-seconds in a core-hour. */
export const CORE_HOUR = 1000n * 3600n;
/** Byte-seconds in a GiB-hour. */
export const GIB_HOUR = (1n << 30n) * 3600n;

/** What one service ran over a span of time (a row of billing_usage). */
export interface Segment {
  app_id: string;
  service: string;
  replicas: number;
  /** Per replica. */
  cpu_millis: number;
  /** Per replica. */
  memory_bytes: number;
  /** Milliseconds since the epoch; the meter counts whole seconds (floored). */
  started_at: number;
  /** Null while it still runs. */
  ended_at: number | null;
}

/** What an app reserved over an hour. */
export interface AppUsage {
  app_id: string;
  /** Millicore-seconds reserved (replicas × millicores × seconds). */
  cpu_millicore_s: bigint;
  /** Byte-seconds of memory reserved (replicas × bytes × seconds). */
  memory_byte_s: bigint;
}

/** The whole seconds of [started_at, ended_at) inside [from, to) (both seconds). */
export function clippedSeconds(s: Segment, fromS: number, toS: number): number {
  const a = Math.max(Math.floor(s.started_at / 1000), fromS);
  const b = Math.min(s.ended_at === null ? toS : Math.floor(s.ended_at / 1000), toS);
  return Math.max(0, b - a);
}

/**
 * Usage per app over the hour starting at `hour` (ms, a multiple of HOUR_MS), segments clipped at
 * the hour's edges; apps in app id order. Boundaries are floored to the second, so adjacent
 * segments (one ends where the next starts) still tile the hour exactly.
 */
export function meterHour(segments: readonly Segment[], hour: number): AppUsage[] {
  if (hour % HOUR_MS !== 0) throw new Error(`meterHour: ${hour} is not the start of an hour`);
  const fromS = hour / 1000;
  const toS = fromS + 3600;
  const byApp = new Map<string, AppUsage>();
  for (const s of segments) {
    const secs = clippedSeconds(s, fromS, toS);
    if (secs === 0) continue;
    const u = byApp.get(s.app_id) ??
      { app_id: s.app_id, cpu_millicore_s: 0n, memory_byte_s: 0n };
    const rs = BigInt(s.replicas) * BigInt(secs);
    u.cpu_millicore_s += rs * BigInt(s.cpu_millis);
    u.memory_byte_s += rs * BigInt(s.memory_bytes);
    byApp.set(s.app_id, u);
  }
  return [...byApp.values()].sort((a, b) => a.app_id < b.app_id ? -1 : 1);
}

const Minor = z.number().int().min(0).max(1_000_000_000);

/**
 * A price plan: integer minor units of `currency` (ISO 4217 code) per core-hour and GiB-hour
 * reserved, GiB-month stored, GiB of egress and build minute.
 */
export const PricePlan = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/, "must be a 3-letter currency code like EUR"),
  cpu_core_hour: Minor,
  memory_gib_hour: Minor,
  storage_gib_month: Minor,
  egress_gib: Minor,
  build_minute: Minor,
}).strict();
export type PricePlan = z.output<typeof PricePlan>;

/** A plan that charges nothing (an install that has set none). */
export const FREE_PLAN: PricePlan = {
  currency: "EUR",
  cpu_core_hour: 0,
  memory_gib_hour: 0,
  storage_gib_month: 0,
  egress_gib: 0,
  build_minute: 0,
};

/** What a cycle bills for one app and resource. */
export interface LineItem {
  app_id: string;
  resource: "cpu" | "memory";
  /** Millicore-seconds or byte-seconds. */
  quantity: bigint;
  /** Minor units per core-hour or GiB-hour. */
  unit_price: number;
  /** Minor units. */
  amount: number;
}

/**
 * `q × price ÷ unit` rounded half-up to an integer, exactly (BigInt rational arithmetic: nothing is
 * rounded before this one step). Quantities and prices are never negative.
 */
export function priceOf(q: bigint, price: number, unit: bigint): bigint {
  return (2n * q * BigInt(price) + unit) / (2n * unit);
}

/**
 * Line items of an hour's usage under a plan: one per app and resource with a non-zero quantity,
 * each amount rounded once (half-up). Amounts past 2^53 minor units are refused (they cannot be
 * stored exactly, and mean a wrong price or a wrong fact).
 */
export function lineItems(usage: readonly AppUsage[], plan: PricePlan): LineItem[] {
  const out: LineItem[] = [];
  const add = (
    app_id: string,
    resource: LineItem["resource"],
    q: bigint,
    price: number,
    unit: bigint,
  ) => {
    if (q === 0n) return;
    const amount = priceOf(q, price, unit);
    if (amount > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`billing: the ${resource} amount of app ${app_id} is too large (${amount})`);
    }
    out.push({ app_id, resource, quantity: q, unit_price: price, amount: Number(amount) });
  };
  for (const u of usage) {
    add(u.app_id, "cpu", u.cpu_millicore_s, plan.cpu_core_hour, CORE_HOUR);
    add(u.app_id, "memory", u.memory_byte_s, plan.memory_gib_hour, GIB_HOUR);
  }
  return out;
}
