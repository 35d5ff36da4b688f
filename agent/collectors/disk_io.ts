/** Disk throughput per whole disk from /proc/diskstats. */
import {
  counterRate,
  countersDue,
  type HostCollector,
  keyFamily,
  readKernelFile,
  rooted,
  type Series,
} from "./common.ts";

/** Bytes read and written so far by one device. */
export interface DiskCounters {
  readBytes: number;
  writeBytes: number;
}

/** /proc/diskstats counts in 512-byte sectors whatever the device's real sector size. */
const SECTOR = 512;

/**
 * Devices that are not disks (loop, ram, zram, floppy, optical) or that would count the same bytes
 * twice: device-mapper and md arrays sit on top of disks already counted.
 */
export const DEFAULT_SKIP_DISKS = /^(loop|ram|zram|fd|sr|dm-|md)\d*/;

// Partitions when /sys/block cannot be listed: sda1, vdb2, xvda1, hda3, nvme0n1p1, mmcblk0p2.
const PARTITION = /^((s|v|xv|h)d[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+|nbd\d+)p\d+)$/;

/**
 * True for a whole disk. `wholeDisks` is the listing of /sys/block (exactly the whole block
 * devices); without it, names are judged by the usual partition patterns.
 */
export function isWholeDisk(
  name: string,
  wholeDisks?: ReadonlySet<string>,
  skip: RegExp = DEFAULT_SKIP_DISKS,
): boolean {
  if (skip.test(name)) return false;
  return wholeDisks ? wholeDisks.has(name) : !PARTITION.test(name);
}

/** Parses /proc/diskstats into byte counters for whole disks. */
export function parseDiskstats(
  text: string,
  wholeDisks?: ReadonlySet<string>,
  skip?: RegExp,
): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split("\n")) {
    // major minor name reads merged sectors_read ms writes merged sectors_written …
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !isWholeDisk(f[2], wholeDisks, skip)) continue;
    const read = Number(f[5]);
    const written = Number(f[9]);
    if (Number.isFinite(read) && Number.isFinite(written)) {
      out.set(f[2], { readBytes: read * SECTOR, writeBytes: written * SECTOR });
    }
  }
  return out;
}

const readKey = keyFamily("disk.read_bps", "dev");
const writeKey = keyFamily("disk.write_bps", "dev");

/** disk.read_bps/disk.write_bps per disk between two reads; a counter that went back is skipped. */
export function diskSeries(
  prev: Map<string, DiskCounters>,
  cur: Map<string, DiskCounters>,
  seconds: number,
): Series {
  const out: Series = {};
  for (const [dev, c] of cur) {
    const p = prev.get(dev);
    if (!p) continue;
    const r = counterRate(p.readBytes, c.readBytes, seconds);
    const w = counterRate(p.writeBytes, c.writeBytes, seconds);
    if (r !== undefined) out[readKey(dev)] = Math.round(r);
    if (w !== undefined) out[writeKey(dev)] = Math.round(w);
  }
  return out;
}

const readTotalKey = keyFamily("disk.read_bytes_total", "dev");
const writtenTotalKey = keyFamily("disk.written_bytes_total", "dev");

/**
 * disk.read_bytes_total/disk.written_bytes_total per disk: the kernel's counters since boot, as
 * they are, for Prometheus (which takes rates itself and expects counters, not rates).
 */
export function diskCounters(cur: Map<string, DiskCounters>, out: Series = {}): Series {
  for (const [dev, c] of cur) {
    out[readTotalKey(dev)] = c.readBytes;
    out[writtenTotalKey(dev)] = c.writeBytes;
  }
  return out;
}

/** How often /sys/block is listed again, for disks plugged in or removed. */
const DISK_LIST_TTL_MS = 60_000;

/**
 * Reads `<root>/proc/diskstats` each run and reports bytes per second since the previous run, and
 * with `countersEveryMs` also the byte counters themselves at most that often.
 */
export function createDiskIoCollector(
  opts: { root?: string; skip?: RegExp; monotonic?: () => number; countersEveryMs?: number } = {},
): HostCollector {
  const root = opts.root ?? "/";
  const path = rooted(root, "/proc/diskstats");
  const clock = opts.monotonic ?? (() => performance.now());
  let disks: { at: number; names?: Set<string> } | undefined;
  let prev: { at: number; counters: Map<string, DiskCounters> } | undefined;
  const due = countersDue(opts.countersEveryMs);
  const wholeDisks = (now: number) => {
    if (!disks || now - disks.at > DISK_LIST_TTL_MS) {
      let names: Set<string> | undefined;
      try {
        names = new Set([...Deno.readDirSync(rooted(root, "/sys/block"))].map((e) => e.name));
      } catch {
        names = undefined; // no sysfs (some containers): fall back to name patterns
      }
      disks = { at: now, names };
    }
    return disks.names;
  };
  return {
    name: "disk_io",
    collect() {
      const text = readKernelFile(path);
      if (text === undefined) return undefined;
      const at = clock();
      const cur = { at, counters: parseDiskstats(text, wholeDisks(at), opts.skip) };
      let out = prev && diskSeries(prev.counters, cur.counters, (cur.at - prev.at) / 1000);
      if (due(at)) out = diskCounters(cur.counters, out);
      prev = cur;
      return out;
    },
  };
}
