/**
 * One hour of one host as Capstan's agent reports it, the same every run for a given seed: the
 * input of the storage figures (bench/raw_tier_bench.ts), so Capstan's raw tier and Prometheus's
 * TSDB store exactly the same samples, and those samples look like a real machine's rather than
 * uniform noise (which no time-series encoding can compress, and which would flatter nobody).
 *
 * What the agent does, and this copies (agent/metrics/sampler.ts, agent/collectors/*):
 * - a sample every second, stamped with the wall clock when the timer fired: whole-second ticks
 *   0–1 ms late mostly, some a few ms, a tail up to ~65 ms (a busy event loop);
 * - 30 host series every second: CPU percentages from kernel tick counters (4 cores at USER_HZ
 *   100, so multiples of about 0.25 %, rounded to 2 decimals), load averages the kernel updates
 *   every 5 s, memory in 4 KiB pages, constants (totals), uptime, rates in whole bytes/s;
 * - the raw byte counters of the network and disk (integers, monotone) at most every 10 s of the
 *   collector's own clock, so 10 or 11 s apart;
 * - containers every 10th tick (containerIntervalMs 10 s): 10 series each (the collector sends
 *   15; block I/O and the tx counter are left out to keep the figure at 10 × 10), rates only from
 *   a container's second sample on;
 * - churn: a few containers are replaced during the hour by new ones with new ids;
 * - batches of the samples of 10 s (reportIntervalMs), numbered in one spool epoch.
 */
import type { MetricsBatch, MetricsSample } from "../../lib/protocol/metrics.ts";

/** The 30 host series sampled every second. */
export const HOST_KEYS = [
  "cpu.total_pct",
  "cpu.user_pct",
  "cpu.system_pct",
  "cpu.iowait_pct",
  "cpu.steal_pct",
  "cpu.core_pct{core=0}",
  "cpu.core_pct{core=1}",
  "cpu.core_pct{core=2}",
  "cpu.core_pct{core=3}",
  "load.1",
  "load.5",
  "load.15",
  "mem.total_bytes",
  "mem.available_bytes",
  "mem.used_bytes",
  "mem.used_pct",
  "mem.cached_bytes",
  "swap.total_bytes",
  "swap.used_bytes",
  "host.uptime_s",
  "net.rx_bps{iface=eth0}",
  "net.tx_bps{iface=eth0}",
  "disk.read_bps{dev=sda}",
  "disk.write_bps{dev=sda}",
  "fs.used_bytes{mount=/}",
  "fs.total_bytes{mount=/}",
  "fs.used_pct{mount=/}",
  "fs.inodes_used{mount=/}",
  "fs.inodes_total{mount=/}",
  "fs.inodes_used_pct{mount=/}",
] as const;

/** Host byte counters, at most every 10 s (countersEveryMs of the network and disk collectors). */
export const HOST_COUNTER_KEYS = [
  "net.rx_bytes_total{iface=eth0}",
  "net.tx_bytes_total{iface=eth0}",
  "disk.read_bytes_total{dev=sda}",
  "disk.written_bytes_total{dev=sda}",
] as const;

/** The 10 series of each container, every 10 s. */
export const CONTAINER_KEYS = [
  "ctr.cpu_pct",
  "ctr.cpu_cores",
  "ctr.cpu_seconds_total",
  "ctr.mem_used_bytes",
  "ctr.mem_limit_bytes",
  "ctr.mem_pct",
  "ctr.pids",
  "ctr.net_rx_bps",
  "ctr.net_tx_bps",
  "ctr.net_rx_bytes_total",
] as const;

/** Options of hostHour(); the defaults are the benchmark's. */
export interface HostHourOptions {
  seed?: number;
  /** The first tick, ms; default 2024-01-01T00:00:00Z, on a 2 h boundary (one Prometheus block). */
  start?: number;
  /** Length, s; default 3600. */
  seconds?: number;
  /** Containers running at once; default 10. */
  containers?: number;
  /** Containers replaced by new ones during the hour; default 3. */
  replacements?: number;
}

/** The hour as the hub receives it. */
export interface HostHour {
  /** The first tick, ms. */
  start: number;
  /** The agent's batches, in order. */
  batches: MetricsBatch[];
  /** Values of all series at all times in the batches (what the hub stores). */
  samples: number;
  /** Distinct (container, key) series. */
  series: number;
  /** Every container id that ran, in order of appearance. */
  containerIds: string[];
}

/** One stored value: its series (container '' for the host) and time. */
export interface HostHourPoint {
  container: string;
  key: string;
  t: number;
  v: number;
}

const PAGE = 4096;
const CPUS = 4;
/** Kernel ticks per second per CPU (USER_HZ). */
const USER_HZ = 100;
const SAMPLES_PER_BATCH = 10;
const CONTAINER_EVERY_TICKS = 10;
const COUNTERS_EVERY_MS = 10_000;

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Random numbers of the shapes the model needs, from one seeded stream. */
function randoms(seed: number) {
  const rnd = prng(seed);
  const gauss = () => {
    const u = 1 - rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  return {
    rnd,
    gauss,
    /** An AR(1) walk around 0: slow drift with noise, as a busy host's load has. */
    walk(phi: number, sd: number) {
      let x = 0;
      return () => (x = phi * x + sd * gauss());
    },
    hex64: () => Array.from({ length: 64 }, () => Math.floor(rnd() * 16).toString(16)).join(""),
    /** How late a tick fires, ms: 0–1 mostly, a few ms sometimes, up to ~65 rarely. */
    lateness() {
      const u = rnd();
      if (u < 0.85) return rnd();
      if (u < 0.99) return 1 + rnd() * 9;
      return 10 + rnd() * 55;
    },
  };
}

type Randoms = ReturnType<typeof randoms>;

/** A byte counter whose rate wanders around `meanBps` with bursts; rates from it as the agent's. */
function byteCounter(r: Randoms, meanBps: number, start: number, pageSized = false) {
  let total = start;
  const wander = r.walk(0.97, 0.15);
  return {
    get total() {
      return total;
    },
    /** Advances the counter by `ms` of traffic; returns bytes/s as the collector rounds it. */
    advance(ms: number): number {
      const burst = r.rnd() < 0.02 ? 8 + r.rnd() * 20 : 1;
      const idle = r.rnd() < 0.15 ? 0 : 1;
      let bytes = meanBps * Math.exp(wander()) * burst * idle * (ms / 1000);
      if (pageSized) bytes = Math.round(bytes / PAGE) * PAGE;
      const delta = Math.max(0, Math.round(bytes));
      total += delta;
      return Math.round(delta / (ms / 1000));
    },
  };
}

/** The host's collectors: state that moves from one second to the next. */
function hostModel(r: Randoms, start: number) {
  const cpuWalk = r.walk(0.98, 0.015);
  const coreBias = Array.from({ length: CPUS }, () => (r.rnd() - 0.5) * 0.1);
  const loads = [0.8, 0.9, 1.0];
  const decay = [60, 300, 900].map((s) => Math.exp(-5 / s));
  const memTotalPages = 2_036_987; // ~7.8 GiB, what MemTotal looks like on an "8 GB" machine
  let usedPages = 812_000;
  let cachedPages = 690_000;
  const swapTotal = 2 * 1024 ** 3;
  const swapUsed = 14_123 * PAGE;
  // Uptime counts from boot, which was 12.4 days ago at some fraction of a second.
  const bootAt = start - 1_071_360_437;
  const fsTotal = 62_742_528 * PAGE;
  let fsUsedBlocks = 21_447_101;
  const fsAvailReserved = 3_137_126; // root's 5 %
  const inodesTotal = 3_932_160;
  let inodesUsed = 402_117;
  const rx = byteCounter(r, 180_000, 913_448_120_331);
  const tx = byteCounter(r, 42_000, 118_020_447_912);
  const diskRead = byteCounter(r, 2_000, 52_110_786_560, true);
  const diskWrite = byteCounter(r, 310_000, 733_905_129_472, true);
  let netCountersAt = -Infinity;
  let diskCountersAt = -Infinity;
  let tick = 0;

  /** CPU percentages from tick counters over `ms`, as linePercents() computes them. */
  const cpu = (ms: number, level: number, out: Record<string, number>) => {
    const sum = { total: 0, busy: 0, user: 0, system: 0, iowait: 0 };
    for (let c = 0; c < CPUS; c++) {
      const total = Math.max(1, Math.round((ms / 1000) * USER_HZ + r.gauss() * 0.6));
      const busy = clamp(
        Math.round(total * clamp(level + coreBias[c], 0, 1) + r.gauss()),
        0,
        total,
      );
      const iowait = r.rnd() < 0.08 ? Math.min(total - busy, 1 + Math.floor(r.rnd() * 3)) : 0;
      const user = clamp(Math.round(busy * 0.72 + r.gauss()), 0, busy);
      out[`cpu.core_pct{core=${c}}`] = round((busy / total) * 100);
      sum.total += total;
      sum.busy += busy;
      sum.user += user;
      sum.system += busy - user;
      sum.iowait += iowait;
    }
    const pct = (n: number) => round(Math.min(100, (n / sum.total) * 100));
    out["cpu.total_pct"] = pct(sum.busy);
    out["cpu.user_pct"] = pct(sum.user);
    out["cpu.system_pct"] = pct(sum.system);
    out["cpu.iowait_pct"] = pct(sum.iowait);
    out["cpu.steal_pct"] = 0;
  };

  return {
    /** The host series of the sample stamped `t`, `ms` after the previous one. */
    sample(t: number, ms: number): Record<string, number> {
      const out: Record<string, number> = {};
      // A slow daily-ish swing, a wandering level, and a cron job's busy minute each quarter hour.
      const cronBusy = (t - start) % 900_000 < 60_000 ? 0.35 : 0;
      const level = clamp(
        0.2 + 0.07 * Math.sin((t - start) / 600_000) + cpuWalk() + cronBusy,
        0.02,
        0.97,
      );
      cpu(ms, level, out);
      // /proc/loadavg changes every 5 s (the kernel's LOAD_FREQ), two decimals.
      if (tick % 5 === 0) {
        const running = Math.max(0, Math.round(level * CPUS + r.gauss() * 0.8));
        for (let i = 0; i < 3; i++) loads[i] = loads[i] * decay[i] + running * (1 - decay[i]);
      }
      out["load.1"] = round(loads[0]);
      out["load.5"] = round(loads[1]);
      out["load.15"] = round(loads[2]);
      usedPages = clamp(
        usedPages + Math.round(r.gauss() * 40 + (cronBusy ? 60 : -8)),
        600_000,
        1_500_000,
      );
      if (r.rnd() < 0.3) cachedPages += Math.round(r.rnd() * 30);
      const used = usedPages * PAGE;
      const total = memTotalPages * PAGE;
      out["mem.total_bytes"] = total;
      out["mem.available_bytes"] = total - used;
      out["mem.used_bytes"] = used;
      out["mem.used_pct"] = round((used / total) * 100);
      out["mem.cached_bytes"] = cachedPages * PAGE;
      out["swap.total_bytes"] = swapTotal;
      out["swap.used_bytes"] = swapUsed;
      out["host.uptime_s"] = Math.floor((t - bootAt) / 1000);
      out["net.rx_bps{iface=eth0}"] = rx.advance(ms);
      out["net.tx_bps{iface=eth0}"] = tx.advance(ms);
      out["disk.read_bps{dev=sda}"] = diskRead.advance(ms);
      out["disk.write_bps{dev=sda}"] = diskWrite.advance(ms);
      // Logs grow the root filesystem a little; now and then a rotation frees some.
      if (r.rnd() < 0.2) fsUsedBlocks += Math.floor(r.rnd() * 6);
      if (r.rnd() < 0.001) fsUsedBlocks -= 20_000;
      if (r.rnd() < 0.05) inodesUsed += r.rnd() < 0.6 ? 1 : -1;
      const fsUsed = fsUsedBlocks * PAGE;
      const fsAvail = (62_742_528 - fsUsedBlocks - fsAvailReserved) * PAGE;
      out["fs.used_bytes{mount=/}"] = fsUsed;
      out["fs.total_bytes{mount=/}"] = fsTotal;
      out["fs.used_pct{mount=/}"] = round((fsUsed / (fsUsed + fsAvail)) * 100);
      out["fs.inodes_used{mount=/}"] = inodesUsed;
      out["fs.inodes_total{mount=/}"] = inodesTotal;
      out["fs.inodes_used_pct{mount=/}"] = round((inodesUsed / inodesTotal) * 100);
      // Each collector paces its counters on its own read time (countersDue): 10 or 11 s apart.
      if (t - netCountersAt >= COUNTERS_EVERY_MS) {
        netCountersAt = t;
        out["net.rx_bytes_total{iface=eth0}"] = rx.total;
        out["net.tx_bytes_total{iface=eth0}"] = tx.total;
      }
      if (t - diskCountersAt >= COUNTERS_EVERY_MS) {
        diskCountersAt = t;
        out["disk.read_bytes_total{dev=sda}"] = diskRead.total;
        out["disk.written_bytes_total{dev=sda}"] = diskWrite.total;
      }
      tick++;
      return out;
    },
  };
}

/** One container's cgroup as the container collector reads it every 10 s. */
function containerModel(r: Randoms, hostMemBytes: number) {
  const cores = 0.01 + r.rnd() ** 2 * 0.6; // most containers idle, a few busy
  const cpuWalk = r.walk(0.9, 0.25);
  const limit = r.rnd() < 0.5 ? 512 * 1024 ** 2 : undefined;
  let memPages = Math.round((20 + r.rnd() * 300) * 256); // 20–320 MiB
  let pids = 1 + Math.floor(r.rnd() * 30);
  let cpuNanos = Math.round(r.rnd() * 4e9);
  const rx = byteCounter(
    r,
    r.rnd() < 0.4 ? 0.5 : 5_000 + r.rnd() * 80_000,
    Math.round(r.rnd() * 1e6),
  );
  const tx = byteCounter(
    r,
    r.rnd() < 0.4 ? 0.5 : 2_000 + r.rnd() * 40_000,
    Math.round(r.rnd() * 1e6),
  );
  let prevAt: number | undefined;
  return {
    sample(t: number): Record<string, number> {
      const memUsed = (memPages = Math.max(256, memPages + Math.round(r.gauss() * 25))) * PAGE;
      if (r.rnd() < 0.02) pids = Math.max(1, pids + (r.rnd() < 0.5 ? 1 : -1));
      const memLimit = limit ?? hostMemBytes;
      const out: Record<string, number> = {
        "ctr.pids": pids,
        "ctr.mem_used_bytes": memUsed,
        "ctr.mem_limit_bytes": memLimit,
        "ctr.mem_pct": round((memUsed / memLimit) * 100),
      };
      if (prevAt !== undefined) {
        const seconds = (t - prevAt) / 1000;
        const used = Math.max(0, cores * Math.exp(cpuWalk()) * seconds * 1e9);
        cpuNanos += Math.round(used);
        out["ctr.cpu_cores"] = round(used / 1e9 / seconds, 4);
        out["ctr.cpu_pct"] = round((used / 1e9 / seconds / CPUS) * 100);
        out["ctr.net_rx_bps"] = rx.advance(t - prevAt);
        out["ctr.net_tx_bps"] = tx.advance(t - prevAt);
      }
      out["ctr.cpu_seconds_total"] = round(cpuNanos / 1e9, 3);
      out["ctr.net_rx_bytes_total"] = rx.total;
      prevAt = t;
      return out;
    },
  };
}

/** Generates the hour: the agent's batches, and counts of what they hold. */
export function hostHour(opts: HostHourOptions = {}): HostHour {
  const seed = opts.seed ?? 1;
  const start = opts.start ?? Date.UTC(2024, 0, 1);
  const seconds = opts.seconds ?? 3600;
  const r = randoms(seed);
  const host = hostModel(r, start);
  const hostMem = 2_036_987 * PAGE;
  const running = Array.from({ length: opts.containers ?? 10 }, () => ({
    id: r.hex64(),
    model: containerModel(r, hostMem),
  }));
  const containerIds = running.map((c) => c.id);
  // Replacements at even spacings through the hour, on container ticks, each to a new id.
  const replaceAt = new Map<number, number>();
  const replacements = opts.replacements ?? 3;
  for (let i = 0; i < replacements; i++) {
    const at = Math.floor(((i + 1) * seconds) / (replacements + 1) / CONTAINER_EVERY_TICKS) *
      CONTAINER_EVERY_TICKS;
    replaceAt.set(at, (i * 3 + 1) % running.length);
  }

  const samples: MetricsSample[] = [];
  let prevT = start - 1000;
  for (let k = 0; k < seconds; k++) {
    const t = Math.round(start + k * 1000 + r.lateness());
    const sample: MetricsSample = { t, host: host.sample(t, t - prevT) };
    prevT = t;
    const slot = replaceAt.get(k);
    if (slot !== undefined) {
      running[slot] = { id: r.hex64(), model: containerModel(r, hostMem) };
      containerIds.push(running[slot].id);
    }
    if (k % CONTAINER_EVERY_TICKS === 0) {
      sample.containers = Object.fromEntries(running.map((c) => [c.id, c.model.sample(t)]));
    }
    samples.push(sample);
  }

  const epoch = `bench${seed.toString(36).padStart(6, "0")}`;
  const batches: MetricsBatch[] = [];
  for (let i = 0; i < samples.length; i += SAMPLES_PER_BATCH) {
    batches.push({
      epoch,
      seq: batches.length,
      dropped: 0,
      samples: samples.slice(i, i + SAMPLES_PER_BATCH),
    });
  }
  const series = new Set<string>();
  let count = 0;
  for (const p of hostHourPoints(batches)) {
    series.add(`${p.container}\u0000${p.key}`);
    count++;
  }
  return { start, batches, samples: count, series: series.size, containerIds };
}

/** Every stored value of the batches, in batch order (as the hub's ingest flattens them). */
export function* hostHourPoints(batches: MetricsBatch[]): Generator<HostHourPoint> {
  for (const b of batches) {
    for (const s of b.samples) {
      for (const key in s.host) yield { container: "", key, t: s.t, v: s.host[key] };
      for (const id in s.containers ?? {}) {
        const values = s.containers![id];
        for (const key in values) yield { container: id, key, t: s.t, v: values[key] };
      }
    }
  }
}

/**
 * A point's series as Prometheus labels: the family `capstan_<name with _ for .>`, `host`,
 * `container` for container series, and the key's own label (`iface`, `dev`, `mount`, `core`).
 */
export function pointLabels(
  host: string,
  p: Pick<HostHourPoint, "container" | "key">,
): { name: string; labels: Record<string, string> } {
  const m = /^([^{]+)(?:\{([a-z_]+)=([^}]*)\})?$/.exec(p.key);
  if (!m) throw new Error(`not a series key: ${p.key}`);
  const labels: Record<string, string> = { host };
  if (p.container) labels.container = p.container;
  if (m[2]) labels[m[2]] = m[3];
  return { name: `capstan_${m[1].replaceAll(".", "_")}`, labels };
}
