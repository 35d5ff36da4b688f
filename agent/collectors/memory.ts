/** Memory and swap from /proc/meminfo. */
import { type HostCollector, readKernelFile, rooted, round, type Series } from "./common.ts";

/** Parses /proc/meminfo into bytes per field (the file says kB and means KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match) m.set(match[1], Number(match[2]) * (line.trimEnd().endsWith("kB") ? 1024 : 1));
  }
  return m;
}

/**
 * mem.* and swap.* series. "Used" is total − available, the figure `free` and the kernel's own
 * estimate agree on; "cached" is free's buff/cache (Buffers + Cached + SReclaimable), the memory
 * the kernel gives back under pressure.
 */
export function memorySeries(m: Map<string, number>): Series | undefined {
  const total = m.get("MemTotal");
  if (!total) return undefined;
  // MemAvailable appeared in Linux 3.14; before that, free + page cache is the usual estimate.
  const available = m.get("MemAvailable") ??
    (m.get("MemFree") ?? 0) + (m.get("Buffers") ?? 0) + (m.get("Cached") ?? 0);
  const used = Math.max(0, total - available);
  const swapTotal = m.get("SwapTotal") ?? 0;
  return {
    "mem.total_bytes": total,
    "mem.available_bytes": available,
    "mem.used_bytes": used,
    "mem.used_pct": round((used / total) * 100),
    "mem.cached_bytes": (m.get("Buffers") ?? 0) + (m.get("Cached") ?? 0) +
      (m.get("SReclaimable") ?? 0),
    "swap.total_bytes": swapTotal,
    "swap.used_bytes": Math.max(0, swapTotal - (m.get("SwapFree") ?? 0)),
  };
}

/** Reads `<root>/proc/meminfo` each run. */
export function createMemoryCollector(opts: { root?: string } = {}): HostCollector {
  const path = rooted(opts.root ?? "/", "/proc/meminfo");
  return {
    name: "memory",
    collect() {
      const text = readKernelFile(path);
      return text === undefined ? undefined : memorySeries(parseMeminfo(text));
    },
  };
}
