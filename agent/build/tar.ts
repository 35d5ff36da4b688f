/**
 * A streaming tar writer for build contexts: ustar headers, with a PAX header where a name or a
 * link target does not fit (store paths run long). It is a generator, so the reader (the engine's
 * `/build` upload) pulls bytes at its own pace and a large closure never sits in memory.
 *
 * Written here rather than taken from npm: the agent is compiled into one binary, and a pull-based
 * generator gives back-pressure without a stream library (tar-stream 3 brings a dozen packages).
 */

const enc = new TextEncoder();
const BLOCK = 512;

/** One entry: a directory, a file read from disk or given bytes, or a symlink. */
export type TarEntry =
  | { type: "dir"; name: string; mode: number }
  | { type: "file"; name: string; mode: number; size: number; path: string }
  | { type: "bytes"; name: string; mode: number; data: Uint8Array }
  | { type: "symlink"; name: string; target: string };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(
  name: string,
  opts: { mode: number; size: number; type: string; link?: string },
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (s: string | Uint8Array, at: number) =>
    h.set(typeof s === "string" ? enc.encode(s) : s, at);
  put(enc.encode(name).slice(0, 100), 0);
  put(octal(opts.mode & 0o7777, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(opts.size, 12), 124);
  // The store's own timestamp (1 s past the epoch): the same closure packs the same bytes.
  put(octal(1, 12), 136);
  put("        ", 148);
  put(opts.type, 156);
  if (opts.link) put(enc.encode(opts.link).slice(0, 100), 157);
  put("ustar\0", 257);
  put("00", 263);
  const sum = h.reduce((s, b) => s + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/** A PAX record `"<len> key=value\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** Header blocks of one entry, with a PAX header first when a name or link is too long. */
function headers(
  name: string,
  opts: { mode: number; size: number; type: string; link?: string },
): Uint8Array[] {
  let pax = "";
  if (enc.encode(name).length > 100) pax += paxRecord("path", name);
  if (opts.link && enc.encode(opts.link).length > 100) pax += paxRecord("linkpath", opts.link);
  if (!pax) return [header(name, opts)];
  const data = enc.encode(pax);
  return [
    header("PaxHeader", { mode: 0o644, size: data.length, type: "x" }),
    data,
    padding(data.length),
    header(name, opts),
  ];
}

/** The archive of `entries`, block by block; a file that changed size while read is an error. */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>) {
  for await (const e of entries) {
    if (e.type === "dir") {
      yield* headers(e.name.endsWith("/") ? e.name : `${e.name}/`, {
        mode: e.mode,
        size: 0,
        type: "5",
      });
    } else if (e.type === "symlink") {
      yield* headers(e.name, { mode: 0o777, size: 0, type: "2", link: e.target });
    } else if (e.type === "bytes") {
      yield* headers(e.name, { mode: e.mode, size: e.data.length, type: "0" });
      yield e.data;
      yield padding(e.data.length);
    } else {
      yield* headers(e.name, { mode: e.mode, size: e.size, type: "0" });
      const f = await Deno.open(e.path);
      let sent = 0;
      try {
        const buf = new Uint8Array(64 * 1024);
        while (sent < e.size) {
          const n = await f.read(buf);
          if (n === null) break;
          const take = Math.min(n, e.size - sent);
          sent += take;
          // A fresh copy: the reader may still hold the previous chunk when the buffer refills.
          yield buf.slice(0, take);
        }
      } finally {
        f.close();
      }
      if (sent !== e.size) throw new Error(`${e.path} changed size while it was packed`);
      yield padding(e.size);
    }
  }
  yield new Uint8Array(BLOCK * 2);
}
