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
/** Bytes in a GiB (2^30): egress is priced per GiB, like memory and storage. */
export const GIB = 1n << 30n;
/**
 * Hours in the billing month of storage: 730 = 8760 / 12, the mean month of a 365-day year (the
 * projection's month too). A fixed length, not the calendar's: the same GiB held the same hour
 * costs the same in February and in March, and a whole year costs exactly 12 monthly prices.
 */
export const MONTH_HOURS = 730n;
/** Byte-seconds in a GiB-month of storage (GiB × 730 h × 3600 s). */
export const GIB_MONTH = GIB * MONTH_HOURS * 3600n;

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

/**
 * Bytes an app (or, with app_id "", the org outside any app) stored, of one kind, over a span:
 * a row of billing_storage. Like usage segments they tile time per (app, kind).
 */
export interface StorageSegment {
  app_id: string;
  kind: "volumes" | "snapshots";
  bytes: number;
  started_at: number;
  ended_at: number | null;
}

/** Bytes an app's containers transmitted, recorded in one hour (a row of billing_egress). */
export interface EgressFact {
  app_id: string;
  hour: number;
  bytes: number;
}

/** A build that ended, recorded in one hour (a row of billing_builds). */
export interface BuildFact {
  app_id: string;
  hour: number;
  /** Its run time in whole minutes, rounded up, at least 1 (what the quota counts). */
  minutes: number;
}

/** Facts of an hour besides the reservations: storage, egress, builds. */
export interface HourFacts {
  storage?: readonly StorageSegment[];
  egress?: readonly EgressFact[];
  builds?: readonly BuildFact[];
}

/** What an app used over an hour. */
export interface AppUsage {
  app_id: string;
  /** Millicore-seconds reserved (replicas × millicores × seconds). */
  cpu_millicore_s: bigint;
  /** Byte-seconds of memory reserved (replicas × bytes × seconds). */
  memory_byte_s: bigint;
  /** Byte-seconds stored (volumes and snapshot data). */
  storage_byte_s?: bigint;
  /** Bytes transmitted by the app's containers. */
  egress_bytes?: bigint;
  /** Build minutes (each build rounded up to a whole minute). */
  build_minutes?: bigint;
}

/** The whole seconds of [started_at, ended_at) inside [from, to) (both seconds). */
export function clippedSeconds(
  s: Pick<Segment, "started_at" | "ended_at">,
  fromS: number,
  toS: number,
): number {
  const a = Math.max(Math.floor(s.started_at / 1000), fromS);
  const b = Math.min(s.ended_at === null ? toS : Math.floor(s.ended_at / 1000), toS);
  return Math.max(0, b - a);
}

/**
 * Usage per app over the hour starting at `hour` (ms, a multiple of HOUR_MS), segments clipped at
 * the hour's edges; apps in app id order. Boundaries are floored to the second, so adjacent
 * segments (one ends where the next starts) still tile the hour exactly.
 */
export function meterHour(
  segments: readonly Segment[],
  hour: number,
  facts: HourFacts = {},
): AppUsage[] {
  if (hour % HOUR_MS !== 0) throw new Error(`meterHour: ${hour} is not the start of an hour`);
  const fromS = hour / 1000;
  const toS = fromS + 3600;
  const byApp = new Map<string, AppUsage>();
  const of = (app_id: string) => {
    let u = byApp.get(app_id);
    if (!u) byApp.set(app_id, u = { app_id, cpu_millicore_s: 0n, memory_byte_s: 0n });
    return u;
  };
  for (const s of segments) {
    const secs = clippedSeconds(s, fromS, toS);
    if (secs === 0) continue;
    const u = of(s.app_id);
    const rs = BigInt(s.replicas) * BigInt(secs);
    u.cpu_millicore_s += rs * BigInt(s.cpu_millis);
    u.memory_byte_s += rs * BigInt(s.memory_bytes);
  }
  for (const s of facts.storage ?? []) {
    const secs = clippedSeconds(s, fromS, toS);
    if (secs === 0 || s.bytes <= 0) continue;
    const u = of(s.app_id);
    u.storage_byte_s = (u.storage_byte_s ?? 0n) + BigInt(s.bytes) * BigInt(secs);
  }
  // Egress and builds are recorded per hour already: only this hour's count.
  for (const e of facts.egress ?? []) {
    if (e.hour !== hour || e.bytes <= 0) continue;
    const u = of(e.app_id);
    u.egress_bytes = (u.egress_bytes ?? 0n) + BigInt(e.bytes);
  }
  for (const b of facts.builds ?? []) {
    if (b.hour !== hour || b.minutes <= 0) continue;
    const u = of(b.app_id);
    u.build_minutes = (u.build_minutes ?? 0n) + BigInt(b.minutes);
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

/** The resources a cycle bills, with the unit of each line item's quantity. */
export const BILLED_RESOURCES = {
  cpu: { quantity: "millicore_seconds", priced: "core-hour" },
  memory: { quantity: "byte_seconds", priced: "GiB-hour" },
  storage: { quantity: "byte_seconds", priced: "GiB-month (730 h)" },
  egress: { quantity: "bytes", priced: "GiB" },
  build: { quantity: "minutes", priced: "build minute" },
} as const;
export type BilledResource = keyof typeof BILLED_RESOURCES;

/** What a cycle bills for one app and resource. */
export interface LineItem {
  app_id: string;
  resource: BilledResource;
  /** Millicore-seconds, byte-seconds, bytes or minutes (BILLED_RESOURCES). */
  quantity: bigint;
  /** Minor units per core-hour, GiB-hour, GiB-month, GiB or build minute. */
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
    add(u.app_id, "storage", u.storage_byte_s ?? 0n, plan.storage_gib_month, GIB_MONTH);
    add(u.app_id, "egress", u.egress_bytes ?? 0n, plan.egress_gib, GIB);
    // Whole minutes at a whole price: exact, the rounding is nil.
    add(u.app_id, "build", u.build_minutes ?? 0n, plan.build_minute, 1n);
  }
  return out;
}

/** A transmit counter read at a sample time: bytes since its network namespace was made. */
export interface CounterRead {
  t: number;
  v: number;
}

/**
 * Bytes a counter adds from its previous read `prev` to `cur`, never negative:
 * - no previous read: the whole counter when `fromZero` (the container started after egress
 *   metering did, so its counter counts only billable bytes), else 0 (a baseline);
 * - a read not newer than the previous: 0 (seen already);
 * - a lower value: the counter restarted (a container restarted in place gets a new namespace,
 *   counting from 0): the new value, the bytes since the restart. Bytes sent between the
 *   previous read and the restart are not seen by anyone and not billed.
 */
export function counterDelta(
  prev: CounterRead | undefined,
  cur: CounterRead,
  fromZero: boolean,
): number {
  const v = Math.max(0, Math.floor(cur.v));
  if (!prev) return fromZero ? v : 0;
  if (cur.t <= prev.t) return 0;
  return v >= prev.v ? v - prev.v : v;
}

/** Build minutes of one build: its run time rounded up to a whole minute, at least 1. */
export function buildMinutes(startedAt: number, finishedAt: number): number {
  return Math.max(1, Math.ceil((finishedAt - startedAt) / 60_000));
}
