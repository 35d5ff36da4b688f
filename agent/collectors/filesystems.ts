/** Used and total bytes and inodes of each real filesystem, from the mount table and statfs. */
import {
  type HostCollector,
  keyFamily,
  readKernelFile,
  rooted,
  round,
  type Series,
} from "./common.ts";
import { createStatfs, type Statfs } from "./statfs.ts";

/** One line of /proc/self/mounts. */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

/** Filesystems on block devices (or pools) worth watching; everything virtual is left out. */
export const REAL_FSTYPES: ReadonlySet<string> = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "zfs",
  "vfat",
  "exfat",
  "f2fs",
  "jfs",
  "reiserfs",
  "ntfs",
  "ntfs3",
  "fuseblk",
  "hfsplus",
  "nilfs2",
  "bcachefs",
]);

/**
 * Mount points never reported: kernel and runtime trees, and Docker's and containerd's own mounts
 * (container layers, bind-mounted data roots), which would repeat the filesystem they live on.
 */
export const DEFAULT_EXCLUDED_MOUNTS: readonly string[] = [
  "/proc",
  "/sys",
  "/dev",
  "/run",
  "/var/run",
  "/snap",
  "/var/lib/docker",
  "/var/lib/containerd",
];

/** Past this many filesystems the rest are left out: the protocol caps a sample at 512 host series. */
export const MAX_FILESYSTEMS = 40;

// Mount tables escape space, tab, newline and backslash as octal.
const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

/** Parses a mount table (/proc/self/mounts format). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [source, target, fstype] = line.split(" ");
    if (source && target && fstype) {
      out.push({ source: unescape(source), target: unescape(target), fstype });
    }
  }
  return out;
}

const under = (target: string, prefix: string) =>
  target === prefix || target.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);

/**
 * The mounts to report: real filesystem types (overlay only as the root, for an agent that runs in a
 * container), not under an excluded prefix, each device once (bind mounts and btrfs subvolumes of
 * one filesystem report the same numbers) under its shortest mount point.
 */
export function selectFilesystems(
  mounts: MountEntry[],
  excluded: readonly string[] = DEFAULT_EXCLUDED_MOUNTS,
): MountEntry[] {
  const bySource = new Map<string, MountEntry>();
  for (const m of mounts) {
    const real = REAL_FSTYPES.has(m.fstype) || (m.fstype === "overlay" && m.target === "/");
    if (!real || excluded.some((p) => under(m.target, p))) continue;
    const seen = bySource.get(m.source);
    if (!seen || m.target.length < seen.target.length) bySource.set(m.source, m);
  }
  return [...bySource.values()].sort((a, b) => a.target.localeCompare(b.target)).slice(
    0,
    MAX_FILESYSTEMS,
  );
}

/** The statfs fields used (node:fs StatFs). */
export interface FsStats {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

const keys = {
  used: keyFamily("fs.used_bytes", "mount"),
  total: keyFamily("fs.total_bytes", "mount"),
  pct: keyFamily("fs.used_pct", "mount"),
  iused: keyFamily("fs.inodes_used", "mount"),
  itotal: keyFamily("fs.inodes_total", "mount"),
  ipct: keyFamily("fs.inodes_used_pct", "mount"),
};

/**
 * Writes one filesystem's fs.* series into `out`. used_pct is df's Use%: used over what an
 * unprivileged user can have (used + available), so root's reserved blocks count as full. Inode
 * series are left out where the filesystem has no fixed inode table (btrfs, vfat report 0).
 */
export function filesystemSeries(mount: string, s: FsStats, out: Series = {}): Series {
  if (!(s.blocks > 0)) return out;
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  out[keys.used(mount)] = used;
  out[keys.total(mount)] = s.blocks * s.bsize;
  out[keys.pct(mount)] = used + avail > 0 ? round((used / (used + avail)) * 100) : 0;
  if (s.files > 0) {
    const iused = s.files - s.ffree;
    out[keys.iused(mount)] = iused;
    out[keys.itotal(mount)] = s.files;
    out[keys.ipct(mount)] = round((iused / s.files) * 100);
  }
  return out;
}

/** How often the mount table is read again (mounts change rarely; statfs runs every sample). */
const MOUNTS_TTL_MS = 60_000;

/**
 * Reports each real filesystem under `root` (default /). `exclude` adds mount prefixes to leave
 * out, e.g. the engine's DockerRootDir when it is not /var/lib/docker.
 */
export function createFilesystemsCollector(
  opts: {
    root?: string;
    exclude?: () => readonly string[];
    monotonic?: () => number;
    statfs?: Statfs;
  } = {},
): HostCollector {
  const statfs = opts.statfs ?? createStatfs();
  const root = opts.root ?? "/";
  const clock = opts.monotonic ?? (() => performance.now());
  let cached: { at: number; list: MountEntry[] } | undefined;
  // A statfs that has not returned (a hung disk) is not asked again until it does.
  const pending = new Set<string>();
  const mounts = (now: number) => {
    if (!cached || now - cached.at > MOUNTS_TTL_MS) {
      const text = readKernelFile(rooted(root, "/proc/self/mounts"));
      const excluded = [...DEFAULT_EXCLUDED_MOUNTS, ...(opts.exclude?.() ?? [])];
      cached = { at: now, list: text ? selectFilesystems(parseMounts(text), excluded) : [] };
    }
    return cached.list;
  };
  return {
    name: "filesystems",
    async collect() {
      const out: Series = {};
      await Promise.all(
        mounts(clock()).map(async (m) => {
          if (pending.has(m.target)) return;
          pending.add(m.target);
          try {
            filesystemSeries(m.target, await statfs(rooted(root, m.target)), out);
          } catch {
            // Unmounted since the table was read, or not permitted: skip until the next re-read.
          } finally {
            pending.delete(m.target);
          }
        }),
      );
      return out;
    },
  };
}
