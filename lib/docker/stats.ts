/**
 * Pure arithmetic over Engine API stats samples (`GET /containers/{id}/stats`).
 *
 * The engine reports raw cgroup counters whose shape differs between cgroup v1 and v2; this
 * module turns one sample (plus the previous one, for rates) into the figures a user reads.
 * No I/O here, so it is tested against captured samples.
 */

/** CPU counters as the engine reports them (nanoseconds). */
export interface CpuStats {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[] | null;
    usage_in_kernelmode?: number;
    usage_in_usermode?: number;
  };
  /** Host CPU time summed over all CPUs; absent in a one-shot sample's precpu_stats. */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
}

/** One blkio entry; v1 spells ops "Read"/"Write"/"Total"…, v2 "read"/"write". */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Per-interface network counters. */
export interface NetworkStats {
  rx_bytes: number;
  rx_packets?: number;
  rx_errors?: number;
  rx_dropped?: number;
  tx_bytes: number;
  tx_packets?: number;
  tx_errors?: number;
  tx_dropped?: number;
}

/** One stats sample (the fields used; the engine sends more). */
export interface DockerStats {
  id?: string;
  name?: string;
  /** RFC 3339 with nanoseconds; "0001-01-01T00:00:00Z" when the container is not running. */
  read: string;
  preread?: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: { io_service_bytes_recursive?: BlkioEntry[] | null };
  num_procs?: number;
  cpu_stats: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats: {
    usage?: number;
    max_usage?: number;
    limit?: number;
    stats?: Record<string, number>;
    failcnt?: number;
  };
  networks?: Record<string, NetworkStats>;
}

/** The container's configured CPU limit (from inspect's HostConfig), when there is one. */
export interface CpuLimit {
  NanoCpus?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
}

/** Figures for display; `null` where a rate needs a previous sample that is not there. */
export interface StatsSummary {
  /** Sample time, ms since the epoch. */
  readAt: number;
  onlineCpus: number;
  /** Share of the whole host's CPU time, 0–100. */
  cpuPercentOfHost: number | null;
  /** CPU cores busy on average over the interval (1.5 = one and a half cores). */
  cpuCores: number | null;
  /** What `docker stats` prints: cores × 100, so 200 % on two busy cores. */
  cpuPercentDocker: number | null;
  /** Cores allowed by NanoCpus or CpuQuota/CpuPeriod; null when unlimited. */
  cpuLimitCores: number | null;
  /** Share of the container's CPU limit, 0–100; null when unlimited or no rate. */
  cpuPercentOfLimit: number | null;
  /** Memory in use excluding reclaimable page cache, like `docker stats`. */
  memoryUsedBytes: number;
  /** The cgroup limit, or the host's memory when the container has none. */
  memoryLimitBytes: number;
  memoryPercent: number;
  networkRxBytes: number;
  networkTxBytes: number;
  networkRxBytesPerSec: number | null;
  networkTxBytesPerSec: number | null;
  blockReadBytes: number;
  blockWriteBytes: number;
  blockReadBytesPerSec: number | null;
  blockWriteBytesPerSec: number | null;
  pids: number;
}

/** Parses an engine timestamp to ms; the zero time (not running) gives NaN. */
export function parseStatsTime(ts: string | undefined): number {
  if (!ts || ts.startsWith("0001-01-01")) return NaN;
  // Date.parse handles at most millisecond fractions portably; drop the nanoseconds.
  return Date.parse(ts.replace(/(\.\d{3})\d+/, "$1"));
}

/** Number of CPUs the sample saw (online_cpus, or the per-CPU array on old engines). */
export function onlineCpus(s: DockerStats): number {
  return s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
}

/**
 * Fraction of the host's CPU time the container used between two CPU snapshots (0–1), or null
 * when the interval is unknown (no system counter, or counters went backwards after a restart).
 */
export function cpuFraction(cur: CpuStats, prev: CpuStats | undefined): number | null {
  if (!prev || prev.system_cpu_usage === undefined || cur.system_cpu_usage === undefined) {
    return null;
  }
  const cpuDelta = cur.cpu_usage.total_usage - prev.cpu_usage.total_usage;
  const sysDelta = cur.system_cpu_usage - prev.system_cpu_usage;
  if (sysDelta <= 0 || cpuDelta < 0) return null;
  return cpuDelta / sysDelta;
}

/** Cores the container may use according to its HostConfig; null when unlimited. */
export function cpuLimitCores(limit: CpuLimit | undefined): number | null {
  if (!limit) return null;
  if (limit.NanoCpus && limit.NanoCpus > 0) return limit.NanoCpus / 1e9;
  if (limit.CpuQuota && limit.CpuQuota > 0) {
    // The kernel's default CFS period is 100 ms when the container does not set one.
    return limit.CpuQuota / (limit.CpuPeriod && limit.CpuPeriod > 0 ? limit.CpuPeriod : 100_000);
  }
  return null;
}

/**
 * Memory used excluding page cache, as `docker stats` computes it: cgroup v1 subtracts
 * `total_inactive_file` (or `cache` on kernels without it), v2 subtracts `inactive_file`.
 */
export function memoryUsed(mem: DockerStats["memory_stats"]): number {
  const usage = mem.usage ?? 0;
  const st = mem.stats ?? {};
  let cache: number | undefined;
  if ("total_inactive_file" in st) cache = st.total_inactive_file; // v1
  else if ("inactive_file" in st) cache = st.inactive_file; // v2 (and v1 without hierarchy)
  else if ("cache" in st) cache = st.cache; // old v1 kernels
  if (cache === undefined || cache > usage) return usage;
  return usage - cache;
}

/** Network bytes received and sent, summed over all interfaces. */
export function networkTotals(s: DockerStats): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  return { rx, tx };
}

/** Block I/O bytes read and written, summed over devices; handles v1 and v2 op spellings. */
export function blockIoTotals(s: DockerStats): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    // v1 also lists Sync/Async/Total per device, which would double count.
    const op = e.op.toLowerCase();
    if (op === "read") read += e.value;
    else if (op === "write") write += e.value;
  }
  return { read, write };
}

function rate(cur: number, prev: number | undefined, seconds: number | null): number | null {
  if (prev === undefined || seconds === null || seconds <= 0 || cur < prev) return null;
  return (cur - prev) / seconds;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Summarises one sample. CPU uses `previous` when given (a one-shot sample carries no
 * precpu_stats), else the sample's own precpu_stats (a streamed sample). Rates for network and
 * block I/O need `previous`.
 */
export function summarizeStats(
  sample: DockerStats,
  previous?: DockerStats | null,
  limit?: CpuLimit,
): StatsSummary {
  const readAt = parseStatsTime(sample.read);
  const cpus = onlineCpus(sample);
  const prevCpu = previous ? previous.cpu_stats : sample.precpu_stats;
  const frac = cpuFraction(sample.cpu_stats, prevCpu);
  const cores = frac === null ? null : frac * cpus;
  const limitCores = cpuLimitCores(limit);

  const memUsed = memoryUsed(sample.memory_stats);
  const memLimit = sample.memory_stats.limit ?? 0;

  const net = networkTotals(sample);
  const blk = blockIoTotals(sample);
  const prevAt = previous ? parseStatsTime(previous.read) : NaN;
  const seconds = Number.isFinite(readAt) && Number.isFinite(prevAt)
    ? (readAt - prevAt) / 1000
    : null;
  const prevNet = previous ? networkTotals(previous) : undefined;
  const prevBlk = previous ? blockIoTotals(previous) : undefined;

  return {
    readAt,
    onlineCpus: cpus,
    cpuPercentOfHost: frac === null ? null : round(frac * 100),
    cpuCores: cores === null ? null : round(cores, 3),
    cpuPercentDocker: cores === null ? null : round(cores * 100),
    cpuLimitCores: limitCores,
    cpuPercentOfLimit: cores === null || limitCores === null
      ? null
      : round((cores / limitCores) * 100),
    memoryUsedBytes: memUsed,
    memoryLimitBytes: memLimit,
    memoryPercent: memLimit > 0 ? round((memUsed / memLimit) * 100) : 0,
    networkRxBytes: net.rx,
    networkTxBytes: net.tx,
    networkRxBytesPerSec: rate(net.rx, prevNet?.rx, seconds),
    networkTxBytesPerSec: rate(net.tx, prevNet?.tx, seconds),
    blockReadBytes: blk.read,
    blockWriteBytes: blk.write,
    blockReadBytesPerSec: rate(blk.read, prevBlk?.read, seconds),
    blockWriteBytesPerSec: rate(blk.write, prevBlk?.write, seconds),
    pids: sample.pids_stats?.current ?? 0,
  };
}
