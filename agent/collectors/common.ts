/**
 * What every host collector shares: the result shape, series-key building and the cheap /proc
 * reads. Collectors are a pure parser (tested on fixture text) plus a thin reader whose root is
 * injectable, so tests point it at a directory of fixture files and a containerised agent at the
 * host's filesystem mounted elsewhere.
 */

/** Values of one collector run, keyed by series key (`name` or `name{label=value}`). */
export type Series = Record<string, number>;

/** A source of host series that the sampler runs on its ticks. */
export interface HostCollector {
  readonly name: string;
  /** Minimum time between runs; every sample when absent. */
  readonly intervalMs?: number;
  /** Reads and returns this run's series; nothing yet is fine (rates need two reads). */
  collect(now: number): Series | undefined | Promise<Series | undefined>;
  /** Releases timers or background work. */
  close?(): void | Promise<void>;
}

/** Series per container (full 64-hex id), run on its own, slower interval. */
export interface ContainerCollector {
  readonly name: string;
  /** Reads all running containers and returns their series. */
  collect(now: number): Promise<Record<string, Series>>;
  /** Releases caches. */
  close?(): void | Promise<void>;
}

// Characters a label value may not hold (see SERIES_KEY in lib/protocol/metrics.ts).
const BAD_LABEL_CHARS = /[{}=,\s"]/g;

/** Builds `name{label=value}`, replacing characters a label value may not hold with `_`. */
export function seriesKey(name: string, label?: string, value?: string | number): string {
  if (label === undefined || value === undefined) return name;
  const v = String(value).replace(BAD_LABEL_CHARS, "_").slice(0, 128) || "_";
  return `${name}{${label}=${v}}`;
}

/**
 * Memoises the keys of one labelled series family: the sampler builds the same few hundred keys
 * every second, and a map lookup is cheaper than a replace + concatenation each time.
 */
export function keyFamily(name: string, label: string): (value: string | number) => string {
  const cache = new Map<string | number, string>();
  return (value) => {
    let k = cache.get(value);
    if (k === undefined) {
      // Bounded: hotplugged devices come and go, but a runaway label set must not grow forever.
      if (cache.size > 4096) cache.clear();
      k = seriesKey(name, label, value);
      cache.set(value, k);
    }
    return k;
  };
}

/** `root` + an absolute path, so `root = "/host"` reads the host's /proc from inside a container. */
export function rooted(root: string, path: string): string {
  return root === "/" || root === "" ? path : `${root.replace(/\/+$/, "")}${path}`;
}

/**
 * Reads a small kernel file synchronously; undefined when it is missing or unreadable. Synchronous
 * on purpose: procfs and sysfs reads never block on a disk, and skipping the thread-pool round trip
 * of an async read keeps the agent's own CPU cost down at one sample per second.
 */
export function readKernelFile(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Rounds to `digits` decimals, keeping batches short (percentages need no 15 digits). */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Per-second rate of a counter between two reads, or undefined when it went backwards (a reboot,
 * a re-plugged device, a wrapped 32-bit counter): the caller starts a new baseline instead of
 * reporting a spike.
 */
export function counterRate(prev: number, cur: number, seconds: number): number | undefined {
  if (cur < prev || !(seconds > 0)) return undefined;
  return (cur - prev) / seconds;
}

/**
 * A pacer for collectors that also report raw counters: true on the first call and then once
 * `everyMs` (monotonic ms) has passed since the last true; never true without `everyMs`.
 */
export function countersDue(everyMs: number | undefined): (now: number) => boolean {
  let last = -Infinity;
  return (now) => {
    if (!everyMs || now - last < everyMs) return false;
    last = now;
    return true;
  };
}
