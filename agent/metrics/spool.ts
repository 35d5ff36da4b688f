/**
 * A durable, bounded, ordered queue of report batches on disk, in the agent's state dir. One file
 * per batch, named by its zero-padded sequence number and holding the exact gzip body to POST; a
 * `state.json` beside them keeps the spool's epoch, the next sequence number and the count of
 * batches dropped. Both are written to a temporary file, synced and renamed, so a crash leaves the
 * old or the new file, never half of one. The next seq is persisted before its batch is written, so
 * a restart never reuses a seq (at worst one is skipped). The epoch is a random id made with the
 * spool: a spool made anew (its directory removed) numbers from 0 again in a new epoch, which the
 * hub stores rather than taking for retries. Over the size bound the oldest batches are dropped
 * first and counted; the count travels in every later batch so the hub can show the gap.
 */
import type { Logger } from "../../lib/log.ts";
import { EPOCH } from "../../lib/protocol/metrics.ts";

/** A batch waiting to be sent. */
export interface SpooledBatch {
  seq: number;
  /** The request body (gzip JSON). */
  bytes: Uint8Array<ArrayBuffer>;
}

/** What the spool holds and has lost. */
export interface SpoolStats {
  batches: number;
  /** Disk space the batches take, counted in whole 4 KiB blocks. */
  bytes: number;
  /** Batches dropped since the state dir was created (over the bound, or refused by the hub). */
  dropped: number;
  nextSeq: number;
}

/** The queue. Methods are serialised internally; callers may interleave them freely. */
export interface Spool {
  /**
   * Takes the next seq, builds the batch for it (with the current dropped count and the spool's
   * epoch) and stores it, dropping the oldest batches if the spool is now over its bound. Resolves
   * with the seq. When the state cannot be written the seq is not used up.
   */
  append(
    build: (seq: number, dropped: number, epoch: string) => Uint8Array | Promise<Uint8Array>,
  ): Promise<number>;
  /** The oldest batch, or undefined when empty. It is kept while being sent (see ack). */
  peek(): Promise<SpooledBatch | undefined>;
  /** Removes a batch the hub has committed. */
  ack(seq: number): Promise<void>;
  /** Removes a batch the hub refused for good, counting it as dropped. */
  discard(seq: number): Promise<void>;
  stats(): SpoolStats;
}

/** Options of the spool. */
export interface SpoolOptions {
  /** Default 100 MB. */
  maxBytes?: number;
  log?: Logger;
}

const NAME = /^(\d{16})\.json\.gz$/;
const BLOCK = 4096;
const onDisk = (size: number) => Math.max(1, Math.ceil(size / BLOCK)) * BLOCK;
const fileName = (seq: number) => `${String(seq).padStart(16, "0")}.json.gz`;

/** A new random epoch: 16 bytes, base64url. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    for (let off = 0; off < data.length;) off += await f.write(data.subarray(off));
    // One fsync per batch every ~10 s is cheap, and it is what makes "spooled" mean "on disk".
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
}

async function removeIfThere(path: string) {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Opens (creating if needed) the spool in `dir` and recovers what a previous run left. */
export async function openSpool(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
  const maxBytes = opts.maxBytes ?? 100 * 1000 * 1000;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const statePath = `${dir}/state.json`;
  let nextSeq = 0;
  let dropped = 0;
  let epoch: string | undefined;
  try {
    const s = JSON.parse(await Deno.readTextFile(statePath));
    if (Number.isSafeInteger(s.nextSeq) && s.nextSeq >= 0) nextSeq = s.nextSeq;
    if (Number.isSafeInteger(s.dropped) && s.dropped >= 0) dropped = s.dropped;
    if (typeof s.epoch === "string" && EPOCH.test(s.epoch)) epoch = s.epoch;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      opts.log?.warn("metrics spool: state.json unreadable, recovering from the batch files", {
        error: String(err),
      });
    }
  }
  const index: { seq: number; size: number }[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".tmp")) {
      await removeIfThere(`${dir}/${e.name}`); // a write cut short by a crash
      continue;
    }
    const m = NAME.exec(e.name);
    if (!m || !e.isFile) continue;
    index.push({ seq: Number(m[1]), size: onDisk((await Deno.stat(`${dir}/${e.name}`)).size) });
  }
  index.sort((a, b) => a.seq - b.seq);
  // Never behind a batch on disk, even if state.json was lost.
  if (index.length) nextSeq = Math.max(nextSeq, index[index.length - 1].seq + 1);
  let total = index.reduce((n, b) => n + b.size, 0);
  let pinned: number | undefined;

  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };
  const saveState = () =>
    writeDurably(
      statePath,
      new TextEncoder().encode(JSON.stringify({ epoch: current, nextSeq, dropped })),
    );
  // A spool without a recorded epoch (new, or its state lost) starts one, stored before any batch
  // is numbered in it.
  const current = epoch ?? newEpoch();
  if (!epoch) await saveState();
  const remove = async (seq: number, asDropped: boolean) => {
    const i = index.findIndex((b) => b.seq === seq);
    if (i < 0) return;
    const [b] = index.splice(i, 1);
    total -= b.size;
    if (pinned === seq) pinned = undefined;
    await removeIfThere(`${dir}/${fileName(seq)}`);
    if (asDropped) dropped++;
  };

  return {
    append(build) {
      return locked(async () => {
        const seq = nextSeq++;
        try {
          await saveState();
        } catch (err) {
          nextSeq--; // not persisted: the seq is free again, nothing is skipped
          throw err;
        }
        const bytes = await build(seq, dropped, current);
        await writeDurably(`${dir}/${fileName(seq)}`, bytes);
        index.push({ seq, size: onDisk(bytes.length) });
        total += onDisk(bytes.length);
        let over = 0;
        // Oldest first, but never the one being sent nor the one just written.
        for (let i = 0; total > maxBytes && i < index.length - 1;) {
          if (index[i].seq === pinned) {
            i++;
            continue;
          }
          await remove(index[i].seq, true);
          over++;
        }
        if (over) {
          opts.log?.warn("metrics spool: over its size bound, dropped the oldest batches", {
            dropped_now: over,
            dropped_total: dropped,
            max_bytes: maxBytes,
          });
          await saveState();
        }
        return seq;
      });
    },
    peek() {
      return locked(async () => {
        while (index.length) {
          const { seq } = index[0];
          try {
            const bytes = await Deno.readFile(`${dir}/${fileName(seq)}`);
            pinned = seq;
            return { seq, bytes };
          } catch (err) {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
            await remove(seq, true); // deleted behind our back: count it, move on
            await saveState();
          }
        }
        return undefined;
      });
    },
    ack(seq) {
      return locked(() => remove(seq, false));
    },
    discard(seq) {
      return locked(async () => {
        await remove(seq, true);
        await saveState();
      });
    },
    stats: () => ({ batches: index.length, bytes: total, dropped, nextSeq }),
  };
}

/** Options of a spool that keeps trying to open its directory. */
export interface RetryingSpoolOptions extends SpoolOptions {
  /** How long after a failed open the next append tries again; default 10 s (a report interval). */
  retryMs?: number;
  /** Wall time, ms (tests move it). */
  now?: () => number;
}

/**
 * A spool whose directory may not be usable yet (a read-only or full state dir at start): it opens
 * the spool on first use and, while that fails, again at most every `retryMs` when a batch is
 * appended. Until then appends fail (the reporter sends those batches from memory) and there is
 * nothing to peek. Never rejects.
 */
export function openSpoolRetrying(dir: string, opts: RetryingSpoolOptions = {}): Spool {
  const retryMs = opts.retryMs ?? 10_000;
  const now = opts.now ?? Date.now;
  let inner: Spool | undefined;
  let opening: Promise<Spool | undefined> | undefined;
  let nextTry = 0;
  let error: string | undefined;
  const open = (): Promise<Spool | undefined> => {
    if (inner || now() < nextTry) return Promise.resolve(inner);
    return opening ??= openSpool(dir, opts).then((s) => {
      if (error) opts.log?.info("metrics spool: opened after all", { dir });
      error = undefined;
      return inner = s;
    }, (err) => {
      if (error === undefined) {
        opts.log?.warn("metrics spool: cannot open it; batches are sent from memory meanwhile", {
          dir,
          error: String(err),
          retry_in_ms: retryMs,
        });
      }
      error = err instanceof Error ? err.message : String(err);
      nextTry = now() + retryMs;
      return undefined;
    }).finally(() => (opening = undefined));
  };
  // Open at once, so a usable directory is used from the first batch.
  open();
  return {
    async append(build) {
      const s = await open();
      if (!s) throw new Error(`the spool at ${dir} cannot be opened: ${error}`);
      return await s.append(build);
    },
    async peek() {
      return await (await open())?.peek();
    },
    async ack(seq) {
      await inner?.ack(seq);
    },
    async discard(seq) {
      await inner?.discard(seq);
    },
    stats: () => inner?.stats() ?? { batches: 0, bytes: 0, dropped: 0, nextSeq: 0 },
  };
}
