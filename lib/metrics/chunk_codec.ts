/**
 * The codec of a raw-tier chunk: one series' samples (strictly increasing integer `t` in ms,
 * float64 `v`) packed into a few bits each and read back bit-exactly (NaN, ±Infinity and -0
 * included). See CHUNKS.md for the figures and the storage around it.
 *
 * Layout (version 1), byte-aligned header then one bit stream (MSB first):
 *
 *   u8 version · varint count · varint t0 · varint (tLast - t0)
 *   u8 value kind: 0..12 = decimal with that many digits, 0xFF = float
 *   first v, then last v when count > 1: decimal → zigzag varints of v·10^d and of the last's
 *   difference from the first; float → 64 raw bits each
 *   when count > 1: time stream params, value stream params (u8 predictor·code·k, varint base,
 *   [varint grid offset], [varint divisor]), then the bits of both streams
 *
 * The last sample is in the header, so `lastSample()` reads the latest value without decoding,
 * and the decoder checks the stream ends on it: a corrupt chunk fails loudly rather than decoding
 * to other numbers.
 *
 * Why not plain Gorilla: agents send CPU % rounded to 2 decimals and integer bytes, and XOR of the
 * float64 bits of 12.34 and 12.71 leaves ~45 meaningful bits, while their scaled integers differ by
 * 37 (~8 bits). So a chunk whose every value is an exact short decimal is stored as integers
 * v·10^d, each predicted from the previous ones (level, delta or delta-of-delta, whichever is
 * smallest for this chunk) and the residuals divided by their common divisor (memory moves in
 * 4 KiB pages) and Rice- or Exp-Golomb-coded with a per-chunk parameter. Anything else (NaN, -0, long fractions)
 * falls back to Gorilla XOR. Timestamps are residuals against a 1 s-like grid (the sampler's ticks
 * arrive a few ms late, and the grid keeps each tick's lateness from counting twice) or
 * delta-of-delta, whichever is smaller; a stream whose residuals are all zero (a regular clock, a
 * constant) costs no bits at all.
 */

/** Bumped when the layout changes; decoders refuse versions they do not know. */
export const CHUNK_VERSION = 1;
/** Most samples one chunk may hold: a day at 1 s (bounds what a corrupt count can allocate). */
export const MAX_CHUNK_SAMPLES = 86_400;
/** Largest timestamp accepted, ms (year ~37,600): keeps every delta and residual a safe integer. */
export const MAX_T = 2 ** 50;

export interface Sample {
  t: number;
  v: number;
}

/** A chunk that cannot be decoded: truncated, corrupt, or of an unknown version. */
export class ChunkError extends Error {
  override name = "ChunkError";
  constructor(message: string) {
    super(`metric chunk: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Bits

/** Where bits go: the writer, or a counter that only sizes a candidate encoding. */
interface BitSink {
  /** Writes the low `n` bits of the non-negative integer `value` (n ≤ 64, value < 2^min(n, 53)). */
  bits(value: number, n: number): void;
}

class BitCounter implements BitSink {
  count = 0;
  bits(_value: number, n: number) {
    this.count += n;
  }
}

class BitWriter implements BitSink {
  #buf = new Uint8Array(64);
  #len = 0;
  #acc = 0;
  #accBits = 0;

  bits(value: number, n: number) {
    // Pieces of at most 24 bits keep the accumulator below 2^32 (exact, no int32 wrap).
    while (n > 24) {
      n -= 24;
      const hi = Math.floor(value / 2 ** n);
      this.#put(hi % 2 ** 24, 24);
      value -= hi * 2 ** n;
    }
    this.#put(value, n);
  }

  /** n ≤ 24: with fewer than 8 bits pending, the accumulator stays within 31 bits. */
  #put(value: number, n: number) {
    this.#acc = (this.#acc << n) | value;
    this.#accBits += n;
    while (this.#accBits >= 8) {
      this.#accBits -= 8;
      const byte = this.#acc >>> this.#accBits;
      this.#acc &= (1 << this.#accBits) - 1;
      if (this.#len === this.#buf.length) {
        const grown = new Uint8Array(this.#buf.length * 2);
        grown.set(this.#buf);
        this.#buf = grown;
      }
      this.#buf[this.#len++] = byte;
    }
  }

  /** The bytes written, the last one padded with zero bits. */
  finish(): Uint8Array {
    if (this.#accBits > 0) this.#put(0, 8 - this.#accBits);
    return this.#buf.slice(0, this.#len);
  }
}

class BitReader {
  #buf: Uint8Array;
  #pos = 0;
  #end: number;
  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#end = buf.length * 8;
  }

  /** Reads `n` bits (n ≤ 53) as a non-negative integer. */
  bits(n: number): number {
    if (this.#pos + n > this.#end) {
      throw new ChunkError(`truncated (needs bit ${this.#pos + n} of ${this.#end})`);
    }
    let out = 0;
    while (n > 0) {
      const byte = this.#buf[this.#pos >> 3];
      const avail = 8 - (this.#pos & 7);
      const take = Math.min(avail, n);
      out = out * 2 ** take + ((byte >> (avail - take)) & ((1 << take) - 1));
      this.#pos += take;
      n -= take;
    }
    return out;
  }

  /** Throws unless only zero padding (less than a byte) is left. */
  end() {
    const left = this.#end - this.#pos;
    if (left >= 8 || (left > 0 && this.bits(left) !== 0)) {
      throw new ChunkError(`${left} unexpected bits after the last sample`);
    }
  }
}

// LEB128 varints of non-negative safe integers, byte-aligned (headers only).
function writeVarint(w: BitSink, x: number) {
  while (x >= 0x80) {
    w.bits(0x80 | (x % 0x80), 8);
    x = Math.floor(x / 0x80);
  }
  w.bits(x, 8);
}

function readVarint(r: BitReader, what: string): number {
  let x = 0;
  for (let shift = 0; shift < 56; shift += 7) {
    const b = r.bits(8);
    x += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (!Number.isSafeInteger(x)) break;
      return x;
    }
  }
  throw new ChunkError(`${what} is not a valid varint`);
}

const varintBits = (x: number) => 8 * Math.max(1, Math.ceil(Math.log2(x + 1) / 7));
const zigzag = (x: number) => (x >= 0 ? 2 * x : -2 * x - 1);
const unzigzag = (z: number) => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
/** Bits needed for the non-negative integer x (0 for 0). */
const bitLength = (x: number) =>
  x < 2 ** 32 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / 2 ** 32));

// Float64 bits as two uint32 halves (JS has no 64-bit integers without BigInt).
const f64 = new DataView(new ArrayBuffer(8));
function floatBits(v: number): [number, number] {
  f64.setFloat64(0, v);
  return [f64.getUint32(0), f64.getUint32(4)];
}
function bitsFloat(hi: number, lo: number): number {
  f64.setUint32(0, hi);
  f64.setUint32(4, lo);
  return f64.getFloat64(0);
}
/** Same float64 bit pattern (tells -0 from 0 and one NaN from another). */
export function sameBits(a: number, b: number): boolean {
  const [ah, al] = floatBits(a);
  const [bh, bl] = floatBits(b);
  return ah === bh && al === bl;
}

// ---------------------------------------------------------------------------------------------
// Integer residual streams

/**
 * How a stream predicts each integer from the previous ones. LEVEL: x − base. DELTA: the step
 * minus base (base = the usual step). DOD: the step minus the previous step (the first step
 * predicted as base). GRID (timestamps): x minus the next slot after the previous one on the grid
 * anchor + m·base, so a tick's lateness is not also charged to the next tick.
 */
const Predictor = { LEVEL: 0, DELTA: 1, DOD: 2, GRID: 3 } as const;
type Predictor = (typeof Predictor)[keyof typeof Predictor];
/** Parameter code meaning "every residual is zero": the stream has no bits. */
const ALL_ZERO = 31;
/** Largest Rice / Exp-Golomb parameter (larger residuals take the escape or a longer prefix). */
const MAX_K = 30;
/** Rice quotients this long switch to an explicit length, so an outlier costs ~70 bits, not 2^k. */
const ESCAPE = 20;
/** Largest |residual| a stream may carry (so zigzag·2 stays a safe integer). */
const MAX_RESIDUAL = 2 ** 51;

/**
 * How residuals are coded. RICE (quotient in unary, k low bits) is near optimal for noise, whose
 * residuals fall off geometrically; EXP_GOLOMB (quotient's length in unary, then the quotient)
 * costs a bit more on the common small ones and far less on a heavy tail — a tick now and then
 * tens of ms late, bursts in a rate — so each stream takes whichever is smaller.
 */
const Code = { RICE: 0, EXP_GOLOMB: 1 } as const;
type Code = (typeof Code)[keyof typeof Code];

interface StreamPlan {
  predictor: Predictor;
  base: number;
  /** GRID only: anchor = x0 − offset, 0 ≤ offset < base. */
  offset: number;
  /** Residuals are multiples of this (≥ 1); they are stored divided by it. */
  divisor: number;
  code: Code;
  /** Code parameter, or ALL_ZERO. */
  k: number;
  /** Zigzagged residuals divided by the divisor, one per value after the first. */
  z: Float64Array;
  /** Header and stream bits. */
  cost: number;
}

const gridSlot = (x: number, anchor: number, step: number) =>
  Math.floor((x - anchor + Math.floor(step / 2)) / step);

function residuals(xs: readonly number[], p: Predictor, base: number, offset: number) {
  const out = new Float64Array(xs.length - 1);
  let prevStep = base;
  const anchor = xs[0] - offset;
  let slot = p === Predictor.GRID ? gridSlot(xs[0], anchor, base) : 0;
  for (let i = 1; i < xs.length; i++) {
    const step = xs[i] - xs[i - 1];
    switch (p) {
      case Predictor.LEVEL:
        out[i - 1] = xs[i] - base;
        break;
      case Predictor.DELTA:
        out[i - 1] = step - base;
        break;
      case Predictor.DOD:
        out[i - 1] = step - prevStep;
        prevStep = step;
        break;
      case Predictor.GRID:
        out[i - 1] = xs[i] - (anchor + (slot + 1) * base);
        slot = gridSlot(xs[i], anchor, base);
        break;
    }
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/**
 * The cheapest code and parameter for these residuals, and its size in bits, estimated from a
 * histogram of their bit lengths (one pass over the residuals, then O(53) per candidate).
 */
function bestCode(z: Float64Array): { code: Code; k: number; bits: number } {
  const count = new Float64Array(54);
  const sum = new Float64Array(54);
  let minLen = 53, maxLen = 0;
  for (const x of z) {
    const len = bitLength(x);
    count[len]++;
    sum[len] += x;
    if (len < minLen) minLen = len;
    if (len > maxLen) maxLen = len;
  }
  let best: { code: Code; k: number; bits: number } = { code: Code.RICE, k: 0, bits: Infinity };
  // Past the longest residual both codes only grow with k, and empty buckets add nothing: the
  // search stays within what occurs (small chunks, encoded once per batch, need it to be cheap).
  for (let k = 0; k <= Math.min(MAX_K, maxLen + 1); k++) {
    let rice = 0;
    let golomb = 0;
    for (let len = minLen; len <= maxLen; len++) {
      const c = count[len];
      if (c === 0) continue;
      // Rice: a unary quotient of about mean / 2^k (the floor takes ~½ off a spread bucket).
      const q = Math.max(0, sum[len] / c / 2 ** k - (len > k ? 0.5 : 0));
      rice += c * (q < ESCAPE ? q + 1 + k : ESCAPE + 6 + len);
      // Exp-Golomb: the quotient's length twice, plus k.
      golomb += c * (len > k ? 2 * (len - k) - 1 + k : 1 + k);
    }
    if (rice < best.bits) best = { code: Code.RICE, k, bits: rice };
    if (golomb < best.bits) best = { code: Code.EXP_GOLOMB, k, bits: golomb };
  }
  best.bits = Math.ceil(best.bits);
  return best;
}

/** The plan of one predictor: divisor, code, parameter and estimated cost. */
function plan(xs: readonly number[], p: Predictor, base: number, offset = 0): StreamPlan {
  const r = residuals(xs, p, base, offset);
  let divisor = 0;
  for (let i = 0; i < r.length && divisor !== 1; i++) divisor = gcd(divisor, Math.abs(r[i]));
  const params = 8 + varintBits(zigzag(base)) + (p === Predictor.GRID ? varintBits(offset) : 0);
  if (divisor === 0) {
    return {
      predictor: p,
      base,
      offset,
      divisor: 1,
      code: Code.RICE,
      k: ALL_ZERO,
      z: new Float64Array(0),
      cost: params,
    };
  }
  const z = r.map((x) => zigzag(x / divisor));
  const best = bestCode(z);
  return {
    predictor: p,
    base,
    offset,
    divisor,
    code: best.code,
    k: best.k,
    z,
    cost: params + varintBits(divisor) + best.bits,
  };
}

function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  return s[s.length >> 1];
}

function steps(xs: readonly number[]): Float64Array {
  const out = new Float64Array(xs.length - 1);
  for (let i = 1; i < xs.length; i++) out[i - 1] = xs[i] - xs[i - 1];
  return out;
}

const cheapest = (plans: StreamPlan[]) => plans.reduce((a, b) => (b.cost < a.cost ? b : a));

function planTimes(ts: readonly number[]): StreamPlan {
  const step = median(steps(ts));
  // The grid anchor that centres the ticks' lateness on zero: the median phase against t0.
  const phases = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const p = (ts[i] - ts[0]) % step;
    phases[i] = p > step / 2 ? p - step : p;
  }
  const phase = median(phases);
  const offset = phase > 0 ? step - phase : -phase;
  return cheapest([
    plan(ts, Predictor.GRID, step, offset),
    plan(ts, Predictor.DOD, step),
    plan(ts, Predictor.DELTA, step),
  ]);
}

function planIntegers(ns: readonly number[]): StreamPlan {
  return cheapest([
    plan(ns, Predictor.DELTA, median(steps(ns))),
    plan(ns, Predictor.DOD, 0),
    plan(ns, Predictor.LEVEL, median(ns)),
  ]);
}

function writeStreamParams(w: BitSink, s: StreamPlan) {
  w.bits((s.predictor << 6) | (s.code << 5) | s.k, 8);
  writeVarint(w, zigzag(s.base));
  if (s.predictor === Predictor.GRID) writeVarint(w, s.offset);
  if (s.k !== ALL_ZERO) writeVarint(w, s.divisor);
}

function writeStream(w: BitSink, s: StreamPlan) {
  if (s.k === ALL_ZERO) return;
  const m = 2 ** s.k;
  for (const x of s.z) {
    const q = Math.floor(x / m);
    if (s.code === Code.EXP_GOLOMB) {
      // q + 1 has `len` bits: len - 1 ones, a zero, then its len - 1 bits below the top one.
      const len = bitLength(q + 1);
      w.bits(2 * (2 ** (len - 1) - 1), len);
      w.bits(q + 1 - 2 ** (len - 1), len - 1);
      if (s.k > 0) w.bits(x - q * m, s.k);
    } else if (q < ESCAPE) {
      // q ones and a zero (q < ESCAPE, so one write).
      w.bits(2 * (2 ** q - 1), q + 1);
      if (s.k > 0) w.bits(x - q * m, s.k);
    } else {
      w.bits(2 ** ESCAPE - 1, ESCAPE);
      const len = bitLength(x);
      w.bits(len, 6);
      w.bits(x, len);
    }
  }
}

interface StreamHeader {
  predictor: Predictor;
  code: Code;
  k: number;
  base: number;
  offset: number;
  divisor: number;
}

function readStreamParams(r: BitReader, what: string): StreamHeader {
  const b = r.bits(8);
  const predictor = (b >> 6) as Predictor;
  const code = ((b >> 5) & 1) as Code;
  const k = b & 31;
  const base = unzigzag(readVarint(r, `${what} base`));
  const offset = predictor === Predictor.GRID ? readVarint(r, `${what} offset`) : 0;
  const divisor = k === ALL_ZERO ? 1 : readVarint(r, `${what} divisor`);
  if (
    Math.abs(base) > MAX_RESIDUAL || offset > MAX_RESIDUAL || divisor < 1 || divisor > MAX_RESIDUAL
  ) {
    throw new ChunkError(`${what} parameters are out of range`);
  }
  if (predictor === Predictor.GRID && (base < 1 || offset >= base)) {
    throw new ChunkError(`${what} grid parameters are out of range`);
  }
  return { predictor, code, k, base, offset, divisor };
}

/** Reads one zigzagged residual of a stream (bounded: a corrupt prefix cannot run on). */
function readResidual(r: BitReader, h: StreamHeader, what: string): number {
  const m = 2 ** h.k;
  const low = () => (h.k > 0 ? r.bits(h.k) : 0);
  if (h.code === Code.EXP_GOLOMB) {
    let len = 1;
    while (r.bits(1) === 1) {
      if (++len > 52) throw new ChunkError(`${what} residual prefix too long`);
    }
    const z = (2 ** (len - 1) + r.bits(len - 1) - 1) * m + low();
    if (z >= 2 * MAX_RESIDUAL) throw new ChunkError(`${what} residual out of range`);
    return z;
  }
  let q = 0;
  while (q < ESCAPE && r.bits(1) === 1) q++;
  if (q < ESCAPE) return q * m + low();
  const len = r.bits(6);
  if (len > 52) throw new ChunkError(`${what} residual of ${len} bits`);
  return r.bits(len);
}

/** Reads `count - 1` residuals and rebuilds the integers from the first. */
function readStream(r: BitReader, h: StreamHeader, first: number, count: number, what: string) {
  const xs = new Array<number>(count);
  xs[0] = first;
  const anchor = first - h.offset;
  let slot = h.predictor === Predictor.GRID ? gridSlot(first, anchor, h.base) : 0;
  let prevStep = h.base;
  for (let i = 1; i < count; i++) {
    let res = 0;
    if (h.k !== ALL_ZERO) {
      const z = readResidual(r, h, what);
      res = unzigzag(z) * h.divisor;
      if (Math.abs(res) > MAX_RESIDUAL) throw new ChunkError(`${what} residual out of range`);
    }
    let x: number;
    switch (h.predictor) {
      case Predictor.LEVEL:
        x = h.base + res;
        break;
      case Predictor.DELTA:
        x = xs[i - 1] + h.base + res;
        break;
      case Predictor.DOD:
        prevStep += res;
        x = xs[i - 1] + prevStep;
        break;
      default:
        x = anchor + (slot + 1) * h.base + res;
        slot = gridSlot(x, anchor, h.base);
    }
    // Every legitimate integer is far below this; anything past it is corruption (and would stop
    // being exact arithmetic).
    if (!(Math.abs(x) <= MAX_T) || !(Math.abs(prevStep) <= MAX_RESIDUAL)) {
      throw new ChunkError(`${what} value out of range`);
    }
    xs[i] = x;
  }
  return xs;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Most decimal digits a value may have to be stored as an integer. */
const MAX_DECIMALS = 12;
/** Largest |v·10^d| stored as an integer: deltas of deltas stay below MAX_RESIDUAL. */
const MAX_SCALED = 2 ** 48;
const FLOAT_KIND = 0xff;

/** Digits after the point of v, if v is exactly n / 10^d for a small integer n; else undefined. */
function decimalsOf(v: number, from: number): number | undefined {
  if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
  for (let d = from; d <= MAX_DECIMALS; d++) {
    const p = 10 ** d;
    const n = Math.round(v * p);
    if (Math.abs(n) > MAX_SCALED) return undefined;
    if (n / p === v) return d;
  }
  return undefined;
}

/** v·10^d for every value when all are short decimals at one d (checked exact); else undefined. */
function asScaledIntegers(vs: readonly number[]): { d: number; ns: number[] } | undefined {
  let d = 0;
  // Values before `settled` passed at a smaller d and are checked again at the final one.
  let settled = 0;
  for (let i = 0; i < vs.length; i++) {
    const dv = decimalsOf(vs[i], d);
    if (dv === undefined) return undefined;
    if (dv !== d) settled = i;
    d = dv;
  }
  const p = 10 ** d;
  const ns = new Array<number>(vs.length);
  for (let i = 0; i < vs.length; i++) {
    const n = Math.round(vs[i] * p);
    if (i < settled && (n / p !== vs[i] || Math.abs(n) > MAX_SCALED)) return undefined;
    ns[i] = n;
  }
  return { d, ns };
}

const clz64 = (hi: number, lo: number) => (hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo));
const ctz32 = (x: number) => (x === 0 ? 32 : 31 - Math.clz32(x & -x));
const ctz64 = (hi: number, lo: number) => (lo !== 0 ? ctz32(lo) : 32 + ctz32(hi));
const lowBits = (x: number, n: number) => (n >= 32 ? x >>> 0 : (x >>> 0) % 2 ** n);

/** Writes bits [tz, tz + len) of the 64-bit value hi:lo. */
function writeWindow(w: BitSink, hi: number, lo: number, tz: number, len: number) {
  if (tz >= 32) {
    w.bits(lowBits(hi >>> (tz - 32), len), len);
    return;
  }
  const loBits = Math.min(len, 32 - tz);
  const hiBits = len - loBits;
  if (hiBits > 0) w.bits(lowBits(hi, hiBits), hiBits);
  w.bits(lowBits(lo >>> tz, loBits), loBits);
}

function readWindow(r: BitReader, tz: number, len: number): [number, number] {
  if (tz >= 32) return [(r.bits(len) * 2 ** (tz - 32)) >>> 0, 0];
  const loBits = Math.min(len, 32 - tz);
  const hiBits = len - loBits;
  const hi = hiBits > 0 ? r.bits(hiBits) : 0;
  return [hi >>> 0, (r.bits(loBits) * 2 ** tz) >>> 0];
}

/** Gorilla: each value's float64 bits XOR the previous one's, in the previous zero window if it fits. */
function writeXor(w: BitSink, vs: readonly number[]) {
  let [ph, pl] = floatBits(vs[0]);
  let lead = -1;
  let trail = 0;
  for (let i = 1; i < vs.length; i++) {
    const [h, l] = floatBits(vs[i]);
    const xh = (h ^ ph) >>> 0;
    const xl = (l ^ pl) >>> 0;
    ph = h;
    pl = l;
    if (xh === 0 && xl === 0) {
      w.bits(0, 1);
      continue;
    }
    const lz = Math.min(31, clz64(xh, xl));
    const tz = ctz64(xh, xl);
    if (lead >= 0 && lz >= lead && tz >= trail) {
      w.bits(0b10, 2);
      writeWindow(w, xh, xl, trail, 64 - lead - trail);
    } else {
      const len = 64 - lz - tz;
      w.bits(0b11, 2);
      w.bits(lz, 5);
      w.bits(len - 1, 6);
      writeWindow(w, xh, xl, tz, len);
      lead = lz;
      trail = tz;
    }
  }
}

function readXor(r: BitReader, first: number, count: number): number[] {
  const vs = new Array<number>(count);
  vs[0] = first;
  let [ph, pl] = floatBits(first);
  let lead = -1;
  let trail = 0;
  for (let i = 1; i < count; i++) {
    if (r.bits(1) === 1) {
      let xh: number, xl: number;
      if (r.bits(1) === 0) {
        if (lead < 0) throw new ChunkError("float stream reuses a window before setting one");
        [xh, xl] = readWindow(r, trail, 64 - lead - trail);
      } else {
        lead = r.bits(5);
        const len = r.bits(6) + 1;
        trail = 64 - lead - len;
        if (trail < 0) throw new ChunkError("float stream window is wider than 64 bits");
        [xh, xl] = readWindow(r, trail, len);
      }
      ph = (ph ^ xh) >>> 0;
      pl = (pl ^ xl) >>> 0;
    }
    vs[i] = bitsFloat(ph, pl);
  }
  return vs;
}

// ---------------------------------------------------------------------------------------------
// Chunks

function checkSamples(samples: readonly Sample[]) {
  if (samples.length === 0) throw new RangeError("metric chunk: no samples to encode");
  if (samples.length > MAX_CHUNK_SAMPLES) {
    throw new RangeError(`metric chunk: ${samples.length} samples, at most ${MAX_CHUNK_SAMPLES}`);
  }
  let prev = -1;
  for (const s of samples) {
    if (!Number.isSafeInteger(s.t) || s.t < 0 || s.t > MAX_T) {
      throw new RangeError(`metric chunk: time ${s.t} is not an integer in [0, 2^50]`);
    }
    if (s.t <= prev) {
      throw new RangeError(
        `metric chunk: times must strictly increase (${s.t} after ${prev}); mergeChunk() sorts and drops repeats`,
      );
    }
    if (typeof s.v !== "number") throw new RangeError("metric chunk: a value is not a number");
    prev = s.t;
  }
}

export interface EncodeOptions {
  /** Always store values as Gorilla XOR floats (to compare against; decoders need no flag). */
  xorValues?: boolean;
}

/**
 * Encodes samples sorted by strictly increasing `t` (integers in [0, 2^50] ms; a repeated or
 * unsorted `t` throws, see mergeChunk). Values are any float64, kept bit for bit.
 */
export function encodeChunk(samples: readonly Sample[], opts: EncodeOptions = {}): Uint8Array {
  checkSamples(samples);
  const n = samples.length;
  const ts = samples.map((s) => s.t);
  const vs = samples.map((s) => s.v);
  const w = new BitWriter();
  w.bits(CHUNK_VERSION, 8);
  writeVarint(w, n);
  writeVarint(w, ts[0]);
  writeVarint(w, ts[n - 1] - ts[0]);

  const scaled = opts.xorValues ? undefined : asScaledIntegers(vs);
  let values: StreamPlan | undefined;
  if (scaled && n > 1) values = planIntegers(scaled.ns);
  // Integers win almost always; the XOR stream is sized only when they might not.
  let useFloat = !scaled;
  if (scaled && values && values.k !== ALL_ZERO && values.cost > 20 * (n - 1)) {
    const counter = new BitCounter();
    writeXor(counter, vs);
    useFloat = counter.count + 128 < values.cost;
  }
  if (useFloat) {
    w.bits(FLOAT_KIND, 8);
    writeFloat(w, vs[0]);
    if (n > 1) writeFloat(w, vs[n - 1]);
  } else {
    w.bits(scaled!.d, 8);
    writeVarint(w, zigzag(scaled!.ns[0]));
    if (n > 1) writeVarint(w, zigzag(scaled!.ns[n - 1] - scaled!.ns[0]));
  }
  if (n === 1) return w.finish();

  const times = planTimes(ts);
  writeStreamParams(w, times);
  if (useFloat) w.bits(0, 8);
  else writeStreamParams(w, values!);
  writeStream(w, times);
  if (useFloat) writeXor(w, vs);
  else writeStream(w, values!);
  return w.finish();
}

function writeFloat(w: BitSink, v: number) {
  const [h, l] = floatBits(v);
  w.bits(h, 32);
  w.bits(l, 32);
}

function readFloat(r: BitReader): number {
  const h = r.bits(32);
  return bitsFloat(h, r.bits(32));
}

/** What the header says, read without touching the sample streams. */
export interface ChunkInfo {
  count: number;
  firstT: number;
  lastT: number;
  first: number;
  last: number;
}

interface Header extends ChunkInfo {
  /** Decimal digits, or FLOAT_KIND. */
  kind: number;
  firstN: number;
  lastN: number;
}

function readHeader(r: BitReader): Header {
  const version = r.bits(8);
  if (version !== CHUNK_VERSION) throw new ChunkError(`unknown version ${version}`);
  const count = readVarint(r, "count");
  if (count < 1 || count > MAX_CHUNK_SAMPLES) throw new ChunkError(`count ${count} out of range`);
  const firstT = readVarint(r, "first time");
  const span = readVarint(r, "time span");
  const lastT = firstT + span;
  if (lastT > MAX_T || (count === 1) !== (span === 0) || span < count - 1) {
    throw new ChunkError(`time span ${span} does not fit ${count} samples`);
  }
  const kind = r.bits(8);
  let first: number, last: number, firstN = 0, lastN = 0;
  if (kind === FLOAT_KIND) {
    first = readFloat(r);
    last = count > 1 ? readFloat(r) : first;
  } else if (kind <= MAX_DECIMALS) {
    const p = 10 ** kind;
    firstN = unzigzag(readVarint(r, "first value"));
    lastN = count > 1 ? firstN + unzigzag(readVarint(r, "last value")) : firstN;
    if (Math.abs(firstN) > MAX_SCALED || Math.abs(lastN) > MAX_SCALED) {
      throw new ChunkError("a value is out of range");
    }
    first = firstN / p;
    last = lastN / p;
  } else throw new ChunkError(`unknown value kind ${kind}`);
  return { count, firstT, lastT, first, last, kind, firstN, lastN };
}

/** Count, first and last sample of a chunk, from its header alone (no stream is decoded). */
export function chunkInfo(chunk: Uint8Array): ChunkInfo {
  const { count, firstT, lastT, first, last } = readHeader(new BitReader(chunk));
  return { count, firstT, lastT, first, last };
}

/** The newest sample of a chunk, from its header (the latest value needs no decoding). */
export function lastSample(chunk: Uint8Array): Sample {
  const h = chunkInfo(chunk);
  return { t: h.lastT, v: h.last };
}

/** Decodes a chunk to its samples; a truncated, corrupt or unknown chunk throws ChunkError. */
export function decodeChunk(chunk: Uint8Array): Sample[] {
  const r = new BitReader(chunk);
  const h = readHeader(r);
  if (h.count === 1) {
    r.end();
    return [{ t: h.firstT, v: h.first }];
  }
  const timeHead = readStreamParams(r, "time stream");
  let valueHead: StreamHeader | undefined;
  if (h.kind === FLOAT_KIND) {
    if (r.bits(8) !== 0) throw new ChunkError("float chunk with integer stream parameters");
  } else valueHead = readStreamParams(r, "value stream");

  const ts = readStream(r, timeHead, h.firstT, h.count, "time stream");
  for (let i = 1; i < ts.length; i++) {
    if (!(ts[i] > ts[i - 1])) throw new ChunkError(`times do not increase at sample ${i}`);
  }
  let vs: number[];
  if (valueHead) {
    const p = 10 ** h.kind;
    const ns = readStream(r, valueHead, h.firstN, h.count, "value stream");
    if (ns[h.count - 1] !== h.lastN) {
      throw new ChunkError("value stream does not end on the last value");
    }
    vs = ns.map((x) => x / p);
  } else {
    vs = readXor(r, h.first, h.count);
    if (!sameBits(vs[h.count - 1], h.last)) {
      throw new ChunkError("value stream does not end on the last value");
    }
  }
  if (ts[h.count - 1] !== h.lastT) {
    throw new ChunkError("time stream does not end on the last time");
  }
  r.end();
  return ts.map((t, i) => ({ t, v: vs[i] }));
}

/**
 * Merges late or out-of-order samples into a chunk (or, with `chunk` null, builds one from
 * unsorted samples). A sample at a `t` the chunk already has is dropped — the stored one stays, as
 * with `on conflict do nothing` on metric_raw — and among incoming samples at one `t` the first
 * wins. `added` counts the samples that were new, so each is counted once.
 */
export function mergeChunk(
  chunk: Uint8Array | null,
  samples: readonly Sample[],
): { chunk: Uint8Array; added: number } {
  const old = chunk ? decodeChunk(chunk) : [];
  const seen = new Set(old.map((s) => s.t));
  const fresh: Sample[] = [];
  for (const s of samples) {
    if (seen.has(s.t)) continue;
    seen.add(s.t);
    fresh.push({ t: s.t, v: s.v });
  }
  if (fresh.length === 0 && chunk) return { chunk, added: 0 };
  // Stable sort: old samples first, both already unique by t, so order among equals never matters.
  const all = old.concat(fresh).sort((a, b) => a.t - b.t);
  return { chunk: encodeChunk(all), added: fresh.length };
}
