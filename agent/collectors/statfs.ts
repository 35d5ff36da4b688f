/**
 * statfs(2) for the filesystems collector. node:fs has it, but a `node:` import makes Deno start
 * its Node compatibility layer: ~2.5 MB of V8 heap and ~3 MB more of the runtime's code resident
 * in every agent, for this one call (issue 20: a steady agent under 60 MB). Where the agent may
 * load native libraries (install.sh's unit gives the bundle --allow-ffi; it already may run any
 * program, so this grants nothing new) it calls libc's statfs directly, off the event loop like
 * node's (a hung network mount never stalls sampling); elsewhere it falls back to node:fs.
 */
import type { FsStats } from "./filesystems.ts";

/** statfs of one path. */
export type Statfs = (path: string) => Promise<FsStats>;

// glibc's struct statfs on 64-bit Linux (x86_64 and aarch64 alike): eleven 8-byte words
// (f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid, f_namelen, f_frsize,
// f_flags) and f_spare[4]; 15 words, 120 bytes.
const WORDS = 15;

/** libc's statfs through Deno's FFI, or undefined where the agent may not or cannot use it. */
export function libcStatfs(): Statfs | undefined {
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) return;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return;
  let lib;
  try {
    lib = Deno.dlopen(
      "libc.so.6",
      {
        statfs: { parameters: ["buffer", "buffer"], result: "i32", nonblocking: true },
      } as const,
    );
  } catch {
    return undefined;
  }
  const encoder = new TextEncoder();
  return async (path) => {
    const buf = new BigUint64Array(WORDS);
    const r = await lib.symbols.statfs(encoder.encode(`${path}\0`), buf);
    if (r !== 0) throw new Error(`statfs ${path} failed`);
    const n = (i: number) => Number(buf[i]);
    return { bsize: n(1), blocks: n(2), bfree: n(3), bavail: n(4), files: n(5), ffree: n(6) };
  };
}

/** The statfs to use: libc's where allowed, node:fs's (loaded on first use) otherwise. */
export function createStatfs(): Statfs {
  const direct = libcStatfs();
  if (direct) return direct;
  let node: Promise<Statfs> | undefined;
  return async (path) => {
    node ??= import("node:fs/promises").then((m) => m.statfs as Statfs);
    return await (await node)(path);
  };
}
