/**
 * What a rollup row keeps of a bucket of samples — min, max, sum, count and a mergeable histogram —
 * built from samples or from other rows. The rollup job writes these; queries build the same from
 * the samples the job has not reached yet, so both count alike.
 */
import { add, decode, type Histogram, merge } from "./histogram.ts";

/** min/max/sum/count and the histogram of some samples. */
export interface Summary {
  min: number;
  max: number;
  sum: number;
  count: number;
  hist: Histogram;
}

/** A summary of no samples. */
export function emptySummary(): Summary {
  return { min: Infinity, max: -Infinity, sum: 0, count: 0, hist: new Map() };
}

/** Adds one sample. */
export function addSample(s: Summary, v: number): void {
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
  s.sum += v;
  s.count++;
  add(s.hist, v);
}

/** Adds a rollup row (its histogram encoded, as stored, or not). */
export function addRow(
  s: Summary,
  r: { min: number; max: number; sum: number; count: number; hist: string | Histogram },
): void {
  if (r.min < s.min) s.min = r.min;
  if (r.max > s.max) s.max = r.max;
  s.sum += r.sum;
  s.count += r.count;
  merge(s.hist, typeof r.hist === "string" ? decode(r.hist) : r.hist);
}
