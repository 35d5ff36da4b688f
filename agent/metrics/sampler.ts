/**
 * Takes a sample every `intervalMs` from the host collectors (and the container collector every
 * `containerIntervalMs`). Ticks are scheduled from one monotonic base, so they never drift; a
 * sample never overlaps the previous one, and ticks whose time passed while a slow sample ran are
 * skipped and counted. A collector that misses the sample's deadline keeps running and delivers into
 * the next sample, and is not started again until it has finished, so one hung read (a dead disk,
 * a stuck engine) can neither stall sampling nor pile up.
 */
import type { Logger } from "../../lib/log.ts";
import { type MetricsSample, SERIES_KEY } from "../../lib/protocol/metrics.ts";
import type { ContainerCollector, HostCollector, Series } from "../collectors/common.ts";
import { type MetricsClock, systemClock } from "./clock.ts";

/** Protocol caps (lib/protocol/metrics.ts): a sample over them would be refused whole. */
const MAX_HOST_SERIES = 512;
const MAX_CONTAINERS = 1000;
const CONTAINER_ID = /^[a-f0-9]{64}$/;
/** Series keys remembered as valid at most (a sample has some 600). */
const MAX_KNOWN_KEYS = 4096;

/** Options of the sampler. */
export interface SamplerOptions {
  host: HostCollector[];
  containers?: ContainerCollector;
  onSample: (sample: MetricsSample) => void;
  /** Default 1000. */
  intervalMs?: number;
  /** Default 10000. */
  containerIntervalMs?: number;
  /** How long a sample waits for its collectors; default 80% of the interval. */
  deadlineMs?: number;
  clock?: MetricsClock;
  log?: Logger;
}

/** Counters of the sampler's own health. */
export interface SamplerStats {
  samples: number;
  /** Ticks skipped because the previous sample ran past them. */
  skippedTicks: number;
  /** Collector runs not started because the previous run had not finished. */
  busySkips: number;
  /** Collector results that missed their sample's deadline and went into the next one. */
  lateResults: number;
  collectorErrors: number;
  /** Values left out: not finite, a malformed key, or over the protocol's caps. */
  rejectedValues: number;
  /** Duration of the last sample, ms. */
  lastSampleMs: number;
}

/** A running sampler. */
export interface Sampler {
  start(): void;
  /** Stops ticking and waits (briefly) for collectors still running. */
  stop(): Promise<void>;
  stats(): SamplerStats;
}

interface Part {
  host?: Series;
  containers?: Record<string, Series>;
}

interface Job {
  name: string;
  every: number;
  /** Relative to the first tick, ms (integers: exact comparisons with tick times). */
  nextDue: number;
  running: boolean;
  failing?: boolean;
  run(t: number): Promise<Part | undefined>;
}

/** Creates a sampler; call start() to begin ticking. */
export function createSampler(opts: SamplerOptions): Sampler {
  const interval = opts.intervalMs ?? 1000;
  const clock = opts.clock ?? systemClock;
  const deadline = opts.deadlineMs ?? Math.max(1, Math.floor(interval * 0.8));
  const stats: SamplerStats = {
    samples: 0,
    skippedTicks: 0,
    busySkips: 0,
    lateResults: 0,
    collectorErrors: 0,
    rejectedValues: 0,
    lastSampleMs: 0,
  };
  const jobs: Job[] = opts.host.map((c) => ({
    name: c.name,
    every: Math.max(interval, c.intervalMs ?? interval),
    nextDue: 0,
    running: false,
    run: async (t) => {
      const host = await c.collect(t);
      return host && { host };
    },
  }));
  const containers = opts.containers;
  if (containers) {
    jobs.push({
      name: containers.name,
      every: Math.max(interval, opts.containerIntervalMs ?? 10_000),
      nextDue: 0,
      running: false,
      run: async (t) => ({ containers: await containers.collect(t) }),
    });
  }
  const late: Part[] = [];
  const inflight = new Set<Promise<void>>();
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;

  // Keys seen valid, so the regex runs once per distinct key rather than on every sample.
  const goodKeys = new Set<string>();
  const warned = new Set<string>();
  const accept = (key: string, v: number) => {
    if (!Number.isFinite(v)) return false;
    if (goodKeys.has(key)) return true;
    if (SERIES_KEY.test(key)) {
      // Bounded by starting over, not by refusing new keys: where devices come and go (a bridge
      // per Docker network, hotplugged disks) the keys of gone ones would otherwise fill the set
      // up to its bound for good (it was 20,000 keys, some 2 MB; issue 20: flat memory). A
      // sample has at most ~600 distinct keys, so a clear costs one regex run per key, rarely.
      if (goodKeys.size >= MAX_KNOWN_KEYS) goodKeys.clear();
      goodKeys.add(key);
      return true;
    }
    if (!warned.has(key) && warned.size < 100) {
      warned.add(key);
      opts.log?.warn("metrics: series key left out, it is not name or name{label=value}", { key });
    }
    return false;
  };

  const merge = (sample: MetricsSample, part: Part) => {
    if (part.host) {
      let count = Object.keys(sample.host).length;
      for (const key in part.host) {
        const v = part.host[key];
        if (!accept(key, v) || (!(key in sample.host) && count >= MAX_HOST_SERIES)) {
          stats.rejectedValues++;
          continue;
        }
        if (!(key in sample.host)) count++;
        sample.host[key] = v;
      }
    }
    if (part.containers) {
      const into = sample.containers ??= {};
      let count = Object.keys(into).length;
      for (const id in part.containers) {
        if (!CONTAINER_ID.test(id) || (!(id in into) && count >= MAX_CONTAINERS)) {
          stats.rejectedValues++;
          continue;
        }
        const src = part.containers[id];
        const dst: Series = into[id] ?? (count++, into[id] = {});
        for (const key in src) {
          if (accept(key, src[key])) dst[key] = src[key];
          else stats.rejectedValues++;
        }
      }
    }
  };

  const tick = async (rel: number) => {
    const started = clock.monotonic();
    const t = Math.round(clock.now());
    const parts: Part[] = late.splice(0);
    const window = { open: true };
    const running: Promise<void>[] = [];
    for (const job of jobs) {
      if (rel < job.nextDue) continue;
      while (job.nextDue <= rel) job.nextDue += job.every;
      if (job.running) {
        stats.busySkips++;
        continue;
      }
      job.running = true;
      const p: Promise<void> = (async () => {
        try {
          const part = await job.run(t);
          if (!part) return;
          if (window.open) parts.push(part);
          else {
            stats.lateResults++;
            late.push(part);
          }
          job.failing = false;
        } catch (err) {
          stats.collectorErrors++;
          // Once at warn when a collector starts failing (engine down), then quietly until it recovers.
          const fields = { collector: job.name, error: String(err) };
          if (job.failing) opts.log?.debug("metrics: collector failed", fields);
          else opts.log?.warn("metrics: collector failed", fields);
          job.failing = true;
        } finally {
          job.running = false;
        }
      })();
      inflight.add(p);
      p.finally(() => inflight.delete(p));
      running.push(p);
    }
    if (running.length) {
      const timer = new AbortController();
      await Promise.race([Promise.all(running), clock.sleep(deadline, timer.signal)]);
      timer.abort();
    }
    window.open = false;
    const sample: MetricsSample = { t, host: {} };
    for (const part of parts) merge(sample, part);
    stats.lastSampleMs = clock.monotonic() - started;
    if (Object.keys(sample.host).length || sample.containers) {
      stats.samples++;
      opts.onSample(sample);
    }
  };

  const run = async () => {
    const base = clock.monotonic();
    let k = 0;
    while (!stopping.signal.aborted) {
      const wait = base + k * interval - clock.monotonic();
      if (wait > 0) await clock.sleep(wait, stopping.signal);
      if (stopping.signal.aborted) break;
      try {
        await tick(k * interval);
      } catch (err) {
        opts.log?.error("metrics: sample failed", { error: String(err) });
      }
      // The next tick whose time has not passed yet; those in between are skipped, not bunched.
      const next = Math.max(k + 1, Math.ceil((clock.monotonic() - base) / interval));
      stats.skippedTicks += next - k - 1;
      k = next;
    }
  };

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopping.abort();
      await loop;
      if (inflight.size) {
        const grace = new AbortController();
        await Promise.race([Promise.all(inflight), clock.sleep(2000, grace.signal)]);
        grace.abort();
      }
    },
    stats: () => ({ ...stats }),
  };
}
