/**
 * The raw tier's head: one `metric_head` row per ingested batch, holding every series of the batch
 * (design and figures: CHUNKS.md, "The head"). Writing a batch as one row dirties one or two pages
 * where one small chunk per series dirtied one page per series, and the encoding is a plain array
 * of float64 (no compression): the real codec runs once, when compaction moves head rows into
 * per-series chunks (chunk_compaction.ts `drainHead`).
 *
 * Readers take the head beside the chunks (chunks.ts): a sample already in a chunk wins over a
 * head sample at the same time, and among head rows the one written first (lower `id`) wins, which
 * is what compaction's merge keeps too, so a query sees the same values before and after.
 *
 * Row layout (little-endian float64s): per series of the batch `series_id, n, t × n, v × n`. Every
 * id and time is an integer below 2^53, so float64 holds it exactly; values keep their bits (NaN,
 * ±Inf, -0).
 */
import type { Sample } from "./chunk_codec.ts";

/** A batch's samples per series id, each list in batch order. */
export type HeadSeries = Map<number, Sample[]>;

/** Encodes a batch's samples per series into a head row's blob. */
export function encodeHead(series: HeadSeries): Uint8Array {
  let words = 0;
  for (const samples of series.values()) words += 2 + 2 * samples.length;
  const buf = new ArrayBuffer(words * 8);
  const view = new DataView(buf);
  let o = 0;
  for (const [sid, samples] of series) {
    view.setFloat64(o, sid, true);
    view.setFloat64(o + 8, samples.length, true);
    o += 16;
    for (const s of samples) {
      view.setFloat64(o, s.t, true);
      o += 8;
    }
    for (const s of samples) {
      view.setFloat64(o, s.v, true);
      o += 8;
    }
  }
  return new Uint8Array(buf);
}

/** Thrown for a head blob that does not parse (truncated or corrupt). */
export class HeadError extends Error {}

/**
 * Decodes a head row's blob, calling `each` per series with its samples in batch order; `want`
 * (when given) skips other series without building their samples.
 */
export function decodeHead(
  data: Uint8Array,
  each: (seriesId: number, samples: Sample[]) => void,
  want?: (seriesId: number) => boolean,
): void {
  if (data.byteLength % 8 !== 0) throw new HeadError("head row: length is not a multiple of 8");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.byteLength;
  let o = 0;
  while (o < end) {
    if (o + 16 > end) throw new HeadError("head row: truncated series header");
    const sid = view.getFloat64(o, true);
    const n = view.getFloat64(o + 8, true);
    o += 16;
    if (!Number.isSafeInteger(sid) || !Number.isSafeInteger(n) || n < 0 || o + 16 * n > end) {
      throw new HeadError("head row: bad series header");
    }
    if (!want || want(sid)) {
      const samples: Sample[] = new Array(n);
      for (let i = 0; i < n; i++) {
        samples[i] = {
          t: view.getFloat64(o + 8 * i, true),
          v: view.getFloat64(o + 8 * (n + i), true),
        };
      }
      each(sid, samples);
    }
    o += 16 * n;
  }
}

/** The first and last time of a batch's samples, and how many there are (the row's t0, t1, n). */
export function headSpan(series: HeadSeries): { t0: number; t1: number; n: number } {
  let t0 = Infinity, t1 = -Infinity, n = 0;
  for (const samples of series.values()) {
    for (const s of samples) {
      if (s.t < t0) t0 = s.t;
      if (s.t > t1) t1 = s.t;
    }
    n += samples.length;
  }
  return { t0, t1, n };
}
