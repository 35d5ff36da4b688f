/**
 * Per-container resource counters read straight from the kernel (cgroup files and the container's
 * /proc/<pid>/net/dev), the way `docker stats` gets them but without the engine's one-second
 * sampling wait per request. Supports cgroup v1 (cgroupfs driver) and v2 (cgroupfs or systemd
 * driver). Rates (CPU %, bytes/s) come from two snapshots; see `rates()`.
 */

/** Raw counters of one container at one moment. */
export interface CgroupSnapshot {
  id: string;
  at: number;
  /** Total CPU time used, nanoseconds. */
  cpuNanos: number;
  memoryUsageBytes: number;
  /** Reclaimable page cache, subtracted for "used" as docker stats does. */
  memoryInactiveFileBytes: number;
  /** null when unlimited. */
  memoryLimitBytes: number | null;
  pids: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

/** Where a container's cgroup files live on this machine. */
export interface CgroupLayout {
  version: 1 | 2;
  /** Directory per controller (v1) or the single unified directory (v2) for a container id. */
  dirs(id: string): { cpu: string; memory: string; pids: string; blkio: string };
}

const UNLIMITED = 2n ** 62n;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds the layout by looking at the mounted hierarchy and one container's directory. */
export async function detectLayout(
  root = "/sys/fs/cgroup",
  sampleId?: string,
): Promise<CgroupLayout> {
  const v2 = await exists(`${root}/cgroup.controllers`);
  if (!v2) {
    return {
      version: 1,
      dirs: (id) => ({
        cpu: `${root}/cpuacct/docker/${id}`,
        memory: `${root}/memory/docker/${id}`,
        pids: `${root}/pids/docker/${id}`,
        blkio: `${root}/blkio/docker/${id}`,
      }),
    };
  }
  // cgroup v2: the systemd driver uses system.slice/docker-<id>.scope, cgroupfs uses docker/<id>.
  const systemd = sampleId
    ? await exists(`${root}/system.slice/docker-${sampleId}.scope`)
    : await exists(`${root}/system.slice`);
  const dir = (id: string) =>
    systemd ? `${root}/system.slice/docker-${id}.scope` : `${root}/docker/${id}`;
  return {
    version: 2,
    dirs: (id) => ({ cpu: dir(id), memory: dir(id), pids: dir(id), blkio: dir(id) }),
  };
}

function keyed(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/** Sums rx/tx bytes over a /proc/<pid>/net/dev table, leaving out the loopback interface. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] || 0;
    tx += f[8] || 0;
  }
  return { rx, tx };
}

/** Sums Read/Write bytes of blkio.throttle.io_service_bytes(_recursive) (v1) or io.stat (v2). */
export function parseBlockIo(
  text: string | undefined,
  version: 1 | 2,
): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (text ?? "").split("\n")) {
    if (version === 1) {
      const [, op, v] = line.trim().split(/\s+/);
      if (op === "Read") read += Number(v) || 0;
      else if (op === "Write") write += Number(v) || 0;
    } else {
      for (const part of line.trim().split(/\s+/).slice(1)) {
        const [k, v] = part.split("=");
        if (k === "rbytes") read += Number(v) || 0;
        else if (k === "wbytes") write += Number(v) || 0;
      }
    }
  }
  return { read, write };
}

/** Reads one container's counters; `pid` is its init process (for the network namespace). */
export async function readSnapshot(
  layout: CgroupLayout,
  id: string,
  pid: number | undefined,
  now = Date.now(),
): Promise<CgroupSnapshot | undefined> {
  const d = layout.dirs(id);
  const v1 = layout.version === 1;
  const [cpu, memUsage, memStat, memLimit, pids, blk, net] = await Promise.all([
    readText(v1 ? `${d.cpu}/cpuacct.usage` : `${d.cpu}/cpu.stat`),
    readText(v1 ? `${d.memory}/memory.usage_in_bytes` : `${d.memory}/memory.current`),
    readText(`${d.memory}/memory.stat`),
    readText(v1 ? `${d.memory}/memory.limit_in_bytes` : `${d.memory}/memory.max`),
    readText(`${d.pids}/pids.current`),
    readText(v1 ? `${d.blkio}/blkio.throttle.io_service_bytes_recursive` : `${d.blkio}/io.stat`),
    pid ? readText(`/proc/${pid}/net/dev`) : Promise.resolve(undefined),
  ]);
  if (cpu === undefined || memUsage === undefined) return undefined; // gone, or not running
  const stat = keyed(memStat);
  const cpuNanos = v1 ? Number(cpu.trim()) : (keyed(cpu).get("usage_usec") ?? 0) * 1000;
  const limitText = memLimit?.trim();
  const memoryLimitBytes = !limitText || limitText === "max" || BigInt(limitText) >= UNLIMITED
    ? null
    : Number(limitText);
  const { rx, tx } = net ? parseNetDev(net) : { rx: 0, tx: 0 };
  const io = parseBlockIo(blk, layout.version);
  return {
    id,
    at: now,
    cpuNanos,
    memoryUsageBytes: Number(memUsage.trim()),
    memoryInactiveFileBytes: (v1 ? stat.get("total_inactive_file") : stat.get("inactive_file")) ??
      0,
    memoryLimitBytes,
    pids: Number(pids?.trim() ?? 0) || 0,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
    netRxBytes: rx,
    netTxBytes: tx,
  };
}

/** Rates between two snapshots of one container; counters that went backwards restart the baseline. */
export function rates(prev: CgroupSnapshot, cur: CgroupSnapshot, hostCpus: number) {
  const seconds = (cur.at - prev.at) / 1000;
  const delta = (a: number, b: number) => (b >= a ? b - a : 0);
  const cores = seconds > 0 ? delta(prev.cpuNanos, cur.cpuNanos) / 1e9 / seconds : 0;
  return {
    cpuCores: cores,
    cpuPercentOfHost: hostCpus > 0 ? (cores / hostCpus) * 100 : 0,
    memoryUsedBytes: Math.max(0, cur.memoryUsageBytes - cur.memoryInactiveFileBytes),
    netRxPerSec: seconds > 0 ? delta(prev.netRxBytes, cur.netRxBytes) / seconds : 0,
    netTxPerSec: seconds > 0 ? delta(prev.netTxBytes, cur.netTxBytes) / seconds : 0,
    blockReadPerSec: seconds > 0 ? delta(prev.blockReadBytes, cur.blockReadBytes) / seconds : 0,
    blockWritePerSec: seconds > 0 ? delta(prev.blockWriteBytes, cur.blockWriteBytes) / seconds : 0,
  };
}

/** Reads many containers with bounded concurrency (each read is a handful of small files). */
export async function readSnapshots(
  layout: CgroupLayout,
  containers: { id: string; pid?: number }[],
  concurrency = 16,
): Promise<CgroupSnapshot[]> {
  const out: CgroupSnapshot[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, containers.length) }, async () => {
    while (next < containers.length) {
      const c = containers[next++];
      const s = await readSnapshot(layout, c.id, c.pid);
      if (s) out.push(s);
    }
  }));
  return out;
}
