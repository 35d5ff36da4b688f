/**
 * Host CPU utilisation from /proc/stat: busy share overall and per core, split into user, system,
 * iowait and steal. Percentages come from the change of the tick counters between two reads.
 */
import {
  type HostCollector,
  keyFamily,
  readKernelFile,
  rooted,
  round,
  type Series,
} from "./common.ts";

/** Tick counters of one /proc/stat cpu line: user nice system idle iowait irq softirq steal. */
export type CpuTicks = readonly number[];

/** The aggregate line and each core's line of /proc/stat. */
export interface ProcStat {
  total: CpuTicks;
  cores: Map<number, CpuTicks>;
}

const USER = 0, NICE = 1, SYSTEM = 2, IDLE = 3, IOWAIT = 4, IRQ = 5, SOFTIRQ = 6, STEAL = 7;
// guest and guest_nice (fields 9 and 10) are already counted in user and nice: left out of the sum.
const FIELDS = 8;

/** Parses the cpu lines of /proc/stat; other lines (intr, ctxt, …) are ignored. */
export function parseProcStat(text: string): ProcStat {
  const cores = new Map<number, CpuTicks>();
  let total: CpuTicks = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const parts = line.trim().split(/\s+/);
    const ticks = parts.slice(1, 1 + FIELDS).map(Number);
    // Old kernels have fewer columns (no steal before 2.6.11): missing ones count as zero.
    while (ticks.length < FIELDS) ticks.push(0);
    if (ticks.some((n) => !Number.isFinite(n))) continue;
    if (parts[0] === "cpu") total = ticks;
    else {
      const n = Number(parts[0].slice(3));
      if (Number.isInteger(n)) cores.set(n, ticks);
    }
  }
  return { total, cores };
}

/** Busy share of one line and its parts, in percent; undefined when the baseline must restart. */
export function linePercents(prev: CpuTicks, cur: CpuTicks) {
  if (prev.length < FIELDS || cur.length < FIELDS) return undefined;
  const d: number[] = [];
  let total = 0;
  let forward = 0;
  for (let i = 0; i < FIELDS; i++) {
    d.push(cur[i] - prev[i]);
    total += d[i];
    if (d[i] > 0) forward += d[i];
  }
  if (total <= 0) return undefined;
  // Kernels with tickless idle let idle/iowait step back by a few ticks while the rest moves on;
  // that is accounting noise, clamped. A bigger step back (reboot, CPU re-plugged, counters reset)
  // restarts the baseline instead of producing a spike.
  const tolerance = Math.max(2, forward * 0.05);
  for (let i = 0; i < FIELDS; i++) {
    if (d[i] < -tolerance) return undefined;
    if (d[i] < 0) {
      total -= d[i];
      d[i] = 0;
    }
  }
  const pct = (n: number) => round(Math.min(100, (n / total) * 100));
  return {
    busy: pct(total - d[IDLE] - d[IOWAIT]),
    // nice is user-mode time; irq and softirq are kernel time: so the parts add up with idle to 100.
    user: pct(d[USER] + d[NICE]),
    system: pct(d[SYSTEM] + d[IRQ] + d[SOFTIRQ]),
    iowait: pct(d[IOWAIT]),
    steal: pct(d[STEAL]),
  };
}

const coreKey = keyFamily("cpu.core_pct", "core");

/** Series between two reads: cpu.total_pct, cpu.user_pct, … and cpu.core_pct{core=N}. */
export function cpuSeries(prev: ProcStat, cur: ProcStat): Series {
  const out: Series = {};
  const t = linePercents(prev.total, cur.total);
  if (t) {
    out["cpu.total_pct"] = t.busy;
    out["cpu.user_pct"] = t.user;
    out["cpu.system_pct"] = t.system;
    out["cpu.iowait_pct"] = t.iowait;
    out["cpu.steal_pct"] = t.steal;
  }
  // Only cores present in both reads: a core that went offline or came online has no baseline.
  for (const [n, ticks] of cur.cores) {
    const before = prev.cores.get(n);
    const c = before && linePercents(before, ticks);
    if (c) out[coreKey(n)] = c.busy;
  }
  return out;
}

/** Reads `<root>/proc/stat` each run and reports utilisation since the previous run. */
export function createCpuCollector(opts: { root?: string } = {}): HostCollector {
  const path = rooted(opts.root ?? "/", "/proc/stat");
  let prev: ProcStat | undefined;
  return {
    name: "cpu",
    collect() {
      const text = readKernelFile(path);
      if (text === undefined) return undefined;
      const cur = parseProcStat(text);
      const out = prev ? cpuSeries(prev, cur) : undefined;
      prev = cur;
      return out;
    },
  };
}
