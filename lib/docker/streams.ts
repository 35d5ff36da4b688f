/**
 * Byte-stream helpers for Engine API streams: the 8-byte-header log multiplexing, line splitting
 * with a length cap, and JSON lines (stats, events, pull progress).
 *
 * Everything here is incremental and bounded: a chunk boundary can fall anywhere (inside a frame
 * header, a payload, a UTF-8 sequence or a JSON object), and one endless line must not grow a
 * buffer without limit.
 */

/** Which output a log line came from. */
export type StreamName = "stdout" | "stderr";

/** A piece of one frame's payload; a frame may arrive as several pieces. */
export interface Frame {
  stream: StreamName;
  data: Uint8Array;
}

/** One log line as the client yields it. */
export interface LogLine {
  stream: StreamName;
  line: string;
  /** RFC 3339 timestamp from the engine when `timestamps` was asked for. */
  ts?: string;
  /** Set when the line was longer than the cap and its tail was dropped. */
  truncated?: true;
}

/** Default cap for one log line, in bytes. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;
/** Default cap for one JSON line; stats on a many-core host run to tens of KiB. */
export const MAX_JSON_LINE_BYTES = 1024 * 1024;

/** Thrown when a stream does not have the shape the engine promises. */
export class StreamFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamFormatError";
  }
}

/**
 * Incremental decoder of Docker's multiplexed stream: each frame is
 * `[type, 0, 0, 0, size(uint32 BE)]` then `size` bytes. Payload is passed on as soon as it
 * arrives rather than buffered per frame, so a huge frame costs no memory here.
 */
export class FrameDemuxer {
  #header = new Uint8Array(8);
  #headerLen = 0;
  #remaining = 0;
  #stream: StreamName = "stdout";

  /** Feeds one chunk and returns the payload pieces it completes, in order. */
  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining === 0) {
        const take = Math.min(8 - this.#headerLen, chunk.length - i);
        this.#header.set(chunk.subarray(i, i + take), this.#headerLen);
        this.#headerLen += take;
        i += take;
        if (this.#headerLen < 8) break;
        this.#headerLen = 0;
        const h = this.#header;
        // Types: 0 stdin (written to stdout), 1 stdout, 2 stderr, 3 systemerr.
        if (h[0] > 3 || h[1] !== 0 || h[2] !== 0 || h[3] !== 0) {
          throw new StreamFormatError(
            "Malformed log frame header: the stream is not multiplexed (does the container have a TTY?)",
          );
        }
        this.#stream = h[0] >= 2 ? "stderr" : "stdout";
        this.#remaining = ((h[4] << 24) >>> 0) + (h[5] << 16) + (h[6] << 8) + h[7];
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      out.push({ stream: this.#stream, data: chunk.subarray(i, i + take) });
      this.#remaining -= take;
      i += take;
    }
    return out;
  }

  /** True when the input so far ended inside a frame (a truncated stream). */
  get midFrame(): boolean {
    return this.#headerLen > 0 || this.#remaining > 0;
  }
}

/** A split line: its bytes without the newline, and whether its tail was cut off. */
export interface RawLine {
  bytes: Uint8Array;
  truncated: boolean;
}

/**
 * Splits bytes into lines on `\n`, across chunk boundaries. A line longer than `maxBytes` is
 * emitted as soon as it reaches the cap (truncated) and the rest of it is skipped, which keeps
 * memory bounded and latency low for runaway output.
 */
export class LineSplitter {
  #parts: Uint8Array[] = [];
  #len = 0;
  #dropping = false;
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Feeds one chunk and returns the lines it completes. */
  push(chunk: Uint8Array): RawLine[] {
    const out: RawLine[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.#dropping) this.#append(chunk.subarray(start, end), out);
      if (nl === -1) break;
      if (this.#dropping) this.#dropping = false;
      else out.push({ bytes: this.#take(), truncated: false });
      start = nl + 1;
    }
    return out;
  }

  /** Returns the unterminated last line, if any, at end of stream. */
  flush(): RawLine | null {
    const dropping = this.#dropping;
    this.#dropping = false;
    if (this.#len === 0) return null;
    return { bytes: this.#take(), truncated: dropping };
  }

  #append(seg: Uint8Array, out: RawLine[]): void {
    if (seg.length === 0) return;
    const room = this.maxBytes - this.#len;
    if (seg.length <= room) {
      // Copy: the caller may reuse its buffer and subarrays would pin large chunks.
      this.#parts.push(seg.slice());
      this.#len += seg.length;
      return;
    }
    this.#parts.push(seg.slice(0, room));
    this.#len += room;
    out.push({ bytes: this.#take(), truncated: true });
    this.#dropping = true;
  }

  #take(): Uint8Array {
    const parts = this.#parts;
    this.#parts = [];
    const len = this.#len;
    this.#len = 0;
    if (parts.length === 1) return parts[0];
    const buf = new Uint8Array(len);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    return buf;
  }
}

const decoder = new TextDecoder();
const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?/;

function toLogLine(stream: StreamName, raw: RawLine, timestamps: boolean): LogLine {
  // Decoding per whole line means a multi-byte character split across chunks stays intact.
  let line = decoder.decode(raw.bytes);
  if (line.endsWith("\r")) line = line.slice(0, -1); // TTY output ends lines with \r\n
  const out: LogLine = { stream, line };
  if (timestamps) {
    const m = TS_RE.exec(line);
    if (m) {
      out.ts = m[1];
      out.line = line.slice(m[0].length);
    }
  }
  if (raw.truncated) out.truncated = true;
  return out;
}

/** Options for {@link logLines}. */
export interface LogLinesOptions {
  /** Raw (TTY) stream instead of the multiplexed one. */
  tty: boolean;
  /** Whether the engine was asked to prefix lines with timestamps. */
  timestamps?: boolean;
  maxLineBytes?: number;
}

/** Turns a log byte stream (multiplexed or raw) into lines, keeping stdout and stderr apart. */
export async function* logLines(
  chunks: AsyncIterable<Uint8Array>,
  opts: LogLinesOptions,
): AsyncGenerator<LogLine, void, undefined> {
  const max = opts.maxLineBytes ?? MAX_LOG_LINE_BYTES;
  const ts = opts.timestamps ?? false;
  // One splitter per stream: a stderr frame may land in the middle of an unfinished stdout line.
  const splitters = { stdout: new LineSplitter(max), stderr: new LineSplitter(max) };
  const demux = opts.tty ? null : new FrameDemuxer();
  for await (const chunk of chunks) {
    const frames: Frame[] = demux ? demux.push(chunk) : [{ stream: "stdout", data: chunk }];
    for (const f of frames) {
      for (const raw of splitters[f.stream].push(f.data)) yield toLogLine(f.stream, raw, ts);
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const raw = splitters[stream].flush();
    if (raw) yield toLogLine(stream, raw, ts);
  }
}

/** Demultiplexes a stream without a TTY (exec output) into frame pieces, stdout and stderr apart. */
export async function* frames(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<Frame, void, undefined> {
  const demux = new FrameDemuxer();
  for await (const chunk of chunks) yield* demux.push(chunk);
}

/** Parses a JSON-lines byte stream; blank lines are skipped, an over-long line is an error. */
export async function* jsonLines<T>(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes = MAX_JSON_LINE_BYTES,
): AsyncGenerator<T, void, undefined> {
  const splitter = new LineSplitter(maxLineBytes);
  const parse = (raw: RawLine): T | undefined => {
    if (raw.truncated) {
      throw new StreamFormatError(`JSON line longer than ${maxLineBytes} bytes`);
    }
    const text = decoder.decode(raw.bytes).trim();
    if (text === "") return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new StreamFormatError(`Invalid JSON line from the engine: ${text.slice(0, 80)}`);
    }
  };
  for await (const chunk of chunks) {
    for (const raw of splitter.push(chunk)) {
      const v = parse(raw);
      if (v !== undefined) yield v;
    }
  }
  const last = splitter.flush();
  if (last) {
    const v = parse(last);
    if (v !== undefined) yield v;
  }
}
