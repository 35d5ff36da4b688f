/**
 * A mergeable log-bucketed histogram (the DDSketch idea): positive values fall into buckets whose
 * bounds grow by γ = (1 + α) / (1 − α), so any quantile read from it is within a relative error of
 * α of the true value at that rank. With α = 1 % a p95 from rollups is within 1 % of the exact p95
 * of the raw samples. Zero and values below 1e-9 share one bucket; negative values mirror positives.
 * Merging is adding counts, so minute rollups combine into hours and any range exactly as sketches.
 */

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MIN_POSITIVE = 1e-9;

/** Bucket counts keyed by signed index; index 0 is the zero bucket, ±(k+1) hold ±γ^k-ish values. */
export type Histogram = Map<number, number>;

/** The bucket index of a value. */
export function bucketOf(v: number): number {
  const a = Math.abs(v);
  if (a < MIN_POSITIVE) return 0;
  // +1 keeps index 0 free for zero; the offset shifts tiny positive values above it.
  const k = Math.ceil(Math.log(a / MIN_POSITIVE) / LOG_GAMMA) + 1;
  return v > 0 ? k : -k;
}

/** The representative value of a bucket: within α of every value in it. */
export function valueOf(index: number): number {
  if (index === 0) return 0;
  const k = Math.abs(index) - 1;
  const upper = MIN_POSITIVE * Math.pow(GAMMA, k);
  const v = (2 * upper) / (1 + GAMMA);
  return index > 0 ? v : -v;
}

/** Adds one value. */
export function add(h: Histogram, v: number, count = 1): void {
  const i = bucketOf(v);
  h.set(i, (h.get(i) ?? 0) + count);
}

/** Adds every bucket of `from` into `into`. */
export function merge(into: Histogram, from: Histogram): void {
  for (const [i, c] of from) into.set(i, (into.get(i) ?? 0) + c);
}

/** The value at quantile q (0..1), or null for an empty histogram. */
export function quantile(h: Histogram, q: number): number | null {
  let total = 0;
  for (const c of h.values()) total += c;
  if (total === 0) return null;
  // Same rank convention as the exact reference: the value at index floor(q * (n - 1)).
  const rank = Math.floor(q * (total - 1));
  const keys = [...h.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const k of keys) {
    seen += h.get(k)!;
    if (seen > rank) return valueOf(k);
  }
  return valueOf(keys[keys.length - 1]);
}

/** Compact text form for storage: `index:count` pairs joined by commas. */
export function encode(h: Histogram): string {
  let s = "";
  for (const [i, c] of h) s += (s ? "," : "") + i + ":" + c;
  return s;
}

/** Parses `encode`'s form. */
export function decode(text: string): Histogram {
  const h: Histogram = new Map();
  if (!text) return h;
  for (const pair of text.split(",")) {
    const sep = pair.indexOf(":");
    h.set(Number(pair.slice(0, sep)), Number(pair.slice(sep + 1)));
  }
  return h;
}
