/**
 * Size of the Docker data root (images, containers, volumes), measured like `du -x` on a slow
 * loop. Walking a large data root costs seconds of CPU (each stat is ~10 µs through Deno), so a
 * walk runs every few minutes, works in short slices at a low duty cycle (1% of a core by default,
 * so it never shows as a spike), stops at a work and a file budget, and the last figure is cached
 * (also on disk, so a restarted agent does not walk again at once). A walk cut short reports what
 * it counted, with docker.root_partial = 1.
 */
import type { HostCollector, Series } from "./common.ts";

/** What one walk found. */
export interface TreeSize {
  /** Allocated bytes (blocks × 512, as du counts), hard-linked files once. */
  bytes: number;
  files: number;
  /** The budget ran out (or the walk was stopped) before every entry was seen. */
  partial: boolean;
}

/** Limits of one walk. */
export interface WalkBudget {
  /** Time spent working (pauses excluded) before the walk gives up; default 5 s. */
  workBudgetMs?: number;
  /** Entries seen before the walk gives up; default 500,000. */
  fileBudget?: number;
  /** Share of one core the walk may use: it pauses between slices to stay under it; default 0.01. */
  dutyCycle?: number;
  signal?: AbortSignal;
  monotonic?: () => number;
}

// Work slices short enough that a sampling tick is never held up noticeably.
const SLICE_MS = 10;
const CHECK_EVERY = 128;
// Hard links are remembered by inode up to this many, to keep the walk's memory bounded.
const MAX_LINKS_TRACKED = 100_000;

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Sums the disk usage under `root` without leaving its filesystem (container overlay mounts and
 * volumes on other devices are their own filesystems). Synchronous stat calls in slices: an async
 * call per file would cost several times the CPU.
 */
export async function measureTree(root: string, budget: WalkBudget = {}): Promise<TreeSize> {
  const clock = budget.monotonic ?? (() => performance.now());
  const workBudget = budget.workBudgetMs ?? 5_000;
  const maxFiles = budget.fileBudget ?? 500_000;
  const duty = Math.min(1, Math.max(0.001, budget.dutyCycle ?? 0.01));
  const rootStat = Deno.lstatSync(root);
  const links = new Set<number>();
  const stack = [root];
  let bytes = (rootStat.blocks ?? 0) * 512;
  let files = 0;
  let worked = 0;
  let sliceStart = clock();
  let sinceCheck = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue; // vanished or not readable: a container removed mid-walk
    }
    for (const e of entries) {
      if (files >= maxFiles || budget.signal?.aborted) return { bytes, files, partial: true };
      if (++sinceCheck >= CHECK_EVERY) {
        sinceCheck = 0;
        const slice = clock() - sliceStart;
        if (slice >= SLICE_MS) {
          worked += slice;
          if (worked >= workBudget) return { bytes, files, partial: true };
          await pause(slice * (1 / duty - 1), budget.signal);
          sliceStart = clock();
        }
      }
      const path = `${dir}/${e.name}`;
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(path);
      } catch {
        continue;
      }
      if (st.dev !== rootStat.dev) continue; // a mount point: another filesystem
      files++;
      if (st.isFile && (st.nlink ?? 1) > 1 && st.ino !== null) {
        if (links.has(st.ino)) continue;
        if (links.size < MAX_LINKS_TRACKED) links.add(st.ino);
      }
      bytes += (st.blocks ?? 0) * 512;
      if (st.isDirectory) stack.push(path);
    }
  }
  return { bytes, files, partial: false };
}

/** Options of the data-root collector. */
export interface DockerRootOptions {
  /** The data root (DockerRootDir from the engine's info); undefined while the engine is down. */
  path: () => Promise<string | undefined>;
  /** Time between walks; default 5 minutes. */
  refreshMs?: number;
  /** How often the cached figure is repeated in samples; default every minute. */
  emitEveryMs?: number;
  /** Where the last result is kept between agent runs (a JSON file in the state dir). */
  cacheFile?: string;
  workBudgetMs?: number;
  fileBudget?: number;
  dutyCycle?: number;
  onError?: (err: unknown) => void;
}

interface Cached {
  at: number;
  path: string;
  bytes: number;
  partial: boolean;
}

function loadCache(file: string | undefined): Cached | undefined {
  if (!file) return undefined;
  try {
    const c = JSON.parse(Deno.readTextFileSync(file));
    return typeof c.at === "number" && typeof c.bytes === "number" ? c : undefined;
  } catch {
    return undefined;
  }
}

function saveCache(file: string | undefined, c: Cached) {
  if (!file) return;
  const tmp = `${file}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(c));
    Deno.renameSync(tmp, file);
  } catch {
    // A lost cache only means one more walk after a restart.
  }
}

/** Reports docker.root_bytes and docker.root_partial, walking in the background when due. */
export function createDockerRootCollector(opts: DockerRootOptions): HostCollector {
  const refreshMs = opts.refreshMs ?? 5 * 60_000;
  const emitEveryMs = opts.emitEveryMs ?? 60_000;
  const stop = new AbortController();
  let cached = loadCache(opts.cacheFile);
  let fresh = cached !== undefined;
  let lastEmit = -Infinity;
  let nextWalk = cached ? cached.at + refreshMs : 0;
  let walking: Promise<void> | undefined;

  const walk = async (now: number) => {
    const path = await opts.path();
    if (!path || stop.signal.aborted) {
      nextWalk = now + emitEveryMs; // engine down: ask again in a while, not every second
      return;
    }
    const size = await measureTree(path, {
      workBudgetMs: opts.workBudgetMs,
      fileBudget: opts.fileBudget,
      dutyCycle: opts.dutyCycle,
      signal: stop.signal,
    });
    if (stop.signal.aborted) return;
    cached = { at: now, path, bytes: size.bytes, partial: size.partial };
    fresh = true;
    saveCache(opts.cacheFile, cached);
  };

  return {
    name: "docker_root",
    collect(now) {
      if (!walking && now >= nextWalk) {
        nextWalk = now + refreshMs;
        walking = walk(now).catch((err) => opts.onError?.(err)).finally(() => walking = undefined);
      }
      if (!cached || (!fresh && now - lastEmit < emitEveryMs)) return undefined;
      fresh = false;
      lastEmit = now;
      const out: Series = {
        "docker.root_bytes": cached.bytes,
        "docker.root_partial": cached.partial ? 1 : 0,
      };
      return out;
    },
    async close() {
      stop.abort();
      await walking;
    },
  };
}
