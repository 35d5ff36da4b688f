/**
 * A build's log as it grows: lines kept up to a byte cap, dropping from the start (the end of a
 * failed build's log says what broke), with gzip for storage. One per running build, in the hub
 * process that runs it.
 */
import { base64, fromBase64 } from "../util/ids.ts";

const encoder = new TextEncoder();

/** The lines of a log, at most `maxBytes` of them, the newest kept. */
export class LogTail {
  #lines: string[] = [];
  #head = 0;
  #bytes = 0;
  /** Bytes dropped from the start to stay under the cap. */
  dropped = 0;

  constructor(readonly maxBytes: number) {}

  push(line: string): void {
    const size = encoder.encode(line).length + 1;
    this.#lines.push(line);
    this.#bytes += size;
    while (this.#bytes > this.maxBytes && this.#head < this.#lines.length - 1) {
      const gone = this.#lines[this.#head++];
      const n = encoder.encode(gone).length + 1;
      this.#bytes -= n;
      this.dropped += n;
    }
    // Compact now and then so dropped lines do not pile up in the array.
    if (this.#head > 4096 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The kept text, one line per line, ending with a newline when there is any. */
  text(): string {
    const kept = this.#lines.slice(this.#head);
    return kept.length ? kept.join("\n") + "\n" : "";
  }

  /** The last `n` lines. */
  last(n: number): string[] {
    return this.#lines.slice(Math.max(this.#head, this.#lines.length - n));
  }
}

async function pipeBytes(bytes: Uint8Array, t: CompressionStream | DecompressionStream) {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(t));
  return new Uint8Array(await out.arrayBuffer());
}

/** gzip of `text`, base64 (what build_logs.gz holds). */
export async function gzipText(text: string): Promise<string> {
  return base64(await pipeBytes(encoder.encode(text), new CompressionStream("gzip")));
}

/** The text of a build_logs.gz value. */
export async function gunzipText(gz: string): Promise<string> {
  if (!gz) return "";
  return new TextDecoder().decode(await pipeBytes(fromBase64(gz), new DecompressionStream("gzip")));
}
