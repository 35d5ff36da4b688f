/**
 * The build context: a checkout streamed as a tar to the engine's `POST /build`, as the docker
 * CLI would send it. `.dockerignore` is honoured with Docker's own matching rules (the
 * `@balena/dockerignore` port of moby's fileutils, vendored in ./vendor/dockerignore: `**`, `!` exceptions, last match wins); the
 * Dockerfile and `.dockerignore` are always sent. Symlinks go as symlinks and are never followed,
 * so a link pointing outside the checkout cannot pull a builder's file into an image; modes are
 * kept; owners are 0/0 with no names, so nothing of the builder's accounts leaks.
 *
 * The tar writer is our own (ustar plus pax records for long names) rather than `tar-stream`:
 * it is a hundred lines, produces a web ReadableStream directly with the reader's back-pressure
 * (tar-stream is built on Node streams and streamx), and sets exactly the header fields above.
 */
import ignore from "./vendor/dockerignore/ignore.js";
import { normalize } from "../path.ts";
import { BuildFailure } from "../../lib/builds/failure.ts";

/** Options of `contextTar`. */
export interface ContextTarOptions {
  /** The Dockerfile's path in the context, sent even when `.dockerignore` names it. */
  dockerfile?: string;
  /** The largest context sent, in tar bytes; over it the stream fails with checkout_too_large. */
  maxBytes: number;
  /** Patterns ignored on top of the checkout's `.dockerignore` (`PLAN_CONTEXT_IGNORE`). */
  ignore?: readonly string[];
  /** Files added to the context (a generated Dockerfile), replacing a checkout file of the name. */
  extraFiles?: Record<string, string | Uint8Array>;
}

const BLOCK = 512;
const CHUNK = 64 * 1024;
/** The largest size an octal ustar size field holds (11 digits). */
const MAX_USTAR_SIZE = 8 ** 11 - 1;
const te = new TextEncoder();

/** One tar entry's header fields. */
interface Entry {
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  size: number;
  mtime: number;
  linkname?: string;
}

/**
 * A streamed tar of `dir` for a docker build. The walk is lazy (one file open at a time, read as
 * the engine reads); cancelling the stream stops it.
 */
export function contextTar(dir: string, opts: ContextTarOptions): ReadableStream<Uint8Array> {
  // Paths are checked now, so a bad one throws here rather than inside the upload.
  const always = new Set([".dockerignore", contextPath(opts.dockerfile ?? "Dockerfile")]);
  const extra = new Map(
    Object.entries(opts.extraFiles ?? {}).map((
      [p, c],
    ) => [contextPath(p), typeof c === "string" ? te.encode(c) : c]),
  );
  return ReadableStream.from(tarChunks(dir, opts, always, extra));
}

/** The context's relative path of a Dockerfile, refused when it leaves the context. */
function contextPath(path: string): string {
  const p = normalize(path).replace(/^\.\/+/, "");
  if (p.startsWith("/") || p === ".." || p.startsWith("../") || p === ".") {
    throw new Error(`The Dockerfile path "${path}" is not inside the build context`);
  }
  return p;
}

/** The `.dockerignore` matcher of the checkout (nothing ignored without one). */
async function readIgnore(
  dir: string,
  more: readonly string[],
): Promise<{ ignores(p: string): boolean; hasExceptions: boolean }> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${dir}/.dockerignore`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const lines = [...text.split(/\r?\n/), ...more];
  const ig = ignore().add(lines);
  return {
    ignores: (p) => ig.ignores(p),
    hasExceptions: lines.some((l) => l.trim().startsWith("!")),
  };
}

async function* tarChunks(
  dir: string,
  opts: ContextTarOptions,
  always: Set<string>,
  extra: Map<string, Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const rules = await readIgnore(dir, opts.ignore ?? []);
  let sent = 0;
  const account = (e: Entry, headerBytes: number) => {
    sent += headerBytes + padded(e.size);
    if (sent + 2 * BLOCK > opts.maxBytes || e.size > MAX_USTAR_SIZE) {
      throw new BuildFailure(
        "checkout_too_large",
        `The build context is larger than the limit of ${opts.maxBytes} bytes (at ${e.path})`,
      );
    }
  };
  const now = Math.floor(Date.now() / 1000);
  for (const [path, content] of [...extra].sort(([a], [b]) => a.localeCompare(b))) {
    const e: Entry = { path, type: "file", mode: 0o644, size: content.length, mtime: now };
    const head = headers(e);
    account(e, head.length);
    yield head;
    for (let i = 0; i < content.length; i += CHUNK) yield content.subarray(i, i + CHUNK);
    yield padding(content.length);
  }

  async function* walk(rel: string): AsyncGenerator<Uint8Array, void, undefined> {
    const names: string[] = [];
    for await (const d of Deno.readDir(rel ? `${dir}/${rel}` : dir)) names.push(d.name);
    names.sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (extra.has(path)) continue;
      const full = `${dir}/${path}`;
      const info = await Deno.lstat(full);
      const ignored = !always.has(path) && rules.ignores(path);
      if (info.isDirectory) {
        // Docker skips an ignored directory unless an exception might bring back a file in it
        // (or the Dockerfile is in it).
        const holdsAlways = [...always].some((a) => a.startsWith(`${path}/`));
        if (ignored && !rules.hasExceptions && !holdsAlways) continue;
        if (!ignored) {
          const e = entryOf(path, "dir", info);
          const head = headers(e);
          account(e, head.length);
          yield head;
        }
        yield* walk(path);
        continue;
      }
      if (ignored) continue;
      if (info.isSymlink) {
        const e = { ...entryOf(path, "symlink", info), linkname: await Deno.readLink(full) };
        const head = headers(e);
        account(e, head.length);
        yield head;
      } else if (info.isFile) {
        const e = entryOf(path, "file", info);
        const head = headers(e);
        account(e, head.length);
        yield head;
        yield* fileChunks(full, e.size);
        yield padding(e.size);
      }
      // Sockets, fifos and devices have no place in an image's context.
    }
  }
  yield* walk("");
  yield new Uint8Array(2 * BLOCK); // end of archive
}

function entryOf(path: string, type: Entry["type"], info: Deno.FileInfo): Entry {
  return {
    path,
    type,
    mode: (info.mode ?? (type === "dir" ? 0o755 : 0o644)) & 0o7777,
    size: type === "file" ? info.size : 0,
    mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
  };
}

/** Exactly `size` bytes of a file (the header promised them), in chunks. */
async function* fileChunks(
  path: string,
  size: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  using file = await Deno.open(path, { read: true });
  let left = size;
  while (left > 0) {
    const buf = new Uint8Array(Math.min(CHUNK, left));
    const n = await file.read(buf);
    if (n === null) throw new Error(`${path} shrank while it was being sent`);
    left -= n;
    yield buf.subarray(0, n);
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function padding(size: number): Uint8Array {
  return new Uint8Array(padded(size) - size);
}

/** The header blocks of an entry: a pax record block first when a name does not fit ustar. */
function headers(e: Entry): Uint8Array {
  const name = e.type === "dir" ? `${e.path}/` : e.path;
  const records: [string, string][] = [];
  if (te.encode(name).length > 100) records.push(["path", name]);
  if (e.linkname !== undefined && te.encode(e.linkname).length > 100) {
    records.push(["linkpath", e.linkname]);
  }
  const main = ustar({
    name,
    mode: e.mode,
    size: e.size,
    mtime: e.mtime,
    typeflag: e.type === "file" ? "0" : e.type === "dir" ? "5" : "2",
    linkname: e.linkname ?? "",
  });
  if (!records.length) return main;
  const body = te.encode(records.map(([k, v]) => paxRecord(k, v)).join(""));
  const pax = ustar({
    name: "././@PaxHeader",
    mode: 0o644,
    size: body.length,
    mtime: e.mtime,
    typeflag: "x",
    linkname: "",
  });
  const out = new Uint8Array(BLOCK + padded(body.length) + BLOCK);
  out.set(pax, 0);
  out.set(body, BLOCK);
  out.set(main, BLOCK + padded(body.length));
  return out;
}

/** `"<len> key=value\n"` where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const rest = te.encode(` ${key}=${value}\n`).length;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${len} ${key}=${value}\n`;
}

/** One 512-byte ustar header; uid/gid 0 and empty owner names whatever the builder's files say. */
function ustar(h: {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const str = (off: number, len: number, s: string) => b.set(te.encode(s).subarray(0, len), off);
  const oct = (off: number, len: number, n: number) =>
    str(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  str(0, 100, h.name); // a longer name is in the pax record; this is the readers' fallback
  oct(100, 8, h.mode);
  oct(108, 8, 0); // uid
  oct(116, 8, 0); // gid
  oct(124, 12, h.size);
  oct(136, 12, Math.max(0, h.mtime));
  str(148, 8, "        "); // checksum counts as spaces while it is computed
  str(156, 1, h.typeflag);
  str(157, 100, h.linkname);
  str(257, 8, "ustar\u000000");
  // uname, gname (265, 297) stay empty; devmajor/devminor and prefix unused.
  const sum = b.reduce((a, x) => a + x, 0);
  str(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return b;
}
