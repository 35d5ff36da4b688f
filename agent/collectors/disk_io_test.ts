import assert from "node:assert/strict";
import {
  createDiskIoCollector,
  diskCounters,
  diskSeries,
  isWholeDisk,
  parseDiskstats,
} from "./disk_io.ts";

const stats = (vdaRead: number, vdaWritten: number) =>
  `   7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 119457 22935 ${vdaRead} 84220 341625 67541 ${vdaWritten} 77619 0 39172 173266 63257 28 1420096 5888 91328 5538
 254       1 vda1 100 0 800 10 10 0 80 1 0 1 1 0 0 0 0 0 0
 259       0 nvme0n1 1 0 16 0 1 0 32 0 0 0 0
 259       1 nvme0n1p1 1 0 8 0 1 0 8 0 0 0 0
 253       0 dm-0 5 0 40 0 5 0 40 0 0 0 0
 253       1 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;

Deno.test("isWholeDisk() trusts /sys/block when listed and name patterns otherwise", () => {
  assert.equal(isWholeDisk("vda"), true);
  assert.equal(isWholeDisk("vda1"), false);
  assert.equal(isWholeDisk("nvme0n1"), true);
  assert.equal(isWholeDisk("nvme0n1p1"), false);
  assert.equal(isWholeDisk("mmcblk0p2"), false);
  assert.equal(isWholeDisk("loop0"), false);
  assert.equal(isWholeDisk("dm-0"), false);
  assert.equal(isWholeDisk("dm-0", undefined, /^loop/), true, "device-mapper on request");
  assert.equal(isWholeDisk("weird1", new Set(["weird1"])), true);
  assert.equal(isWholeDisk("vda", new Set(["sda"])), false);
});

Deno.test("parseDiskstats() keeps whole disks and converts 512-byte sectors to bytes", () => {
  const m = parseDiskstats(stats(1000, 2000));
  assert.deepEqual([...m.keys()], ["vda", "nvme0n1"]);
  assert.deepEqual(m.get("vda"), { readBytes: 512000, writeBytes: 1024000 });
});

Deno.test("diskSeries() gives bytes per second and restarts the baseline after a reset", () => {
  const a = parseDiskstats(stats(1000, 2000));
  const b = parseDiskstats(stats(3000, 2000));
  assert.deepEqual(diskSeries(a, b, 2), {
    "disk.read_bps{dev=vda}": 512000,
    "disk.write_bps{dev=vda}": 0,
    "disk.read_bps{dev=nvme0n1}": 0,
    "disk.write_bps{dev=nvme0n1}": 0,
  });
  const rebooted = parseDiskstats(stats(10, 10));
  const s = diskSeries(b, rebooted, 1);
  assert.equal(s["disk.read_bps{dev=vda}"], undefined, "no negative or huge spike");
  assert.equal(s["disk.write_bps{dev=vda}"], undefined);
});

Deno.test("createDiskIoCollector() reads <root>/proc/diskstats with <root>/sys/block", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc`);
    await Deno.mkdir(`${root}/sys/block/nvme0n1`, { recursive: true });
    let now = 0;
    const c = createDiskIoCollector({ root, monotonic: () => now });
    await Deno.writeTextFile(`${root}/proc/diskstats`, stats(0, 0));
    assert.equal(await c.collect(0), undefined);
    now = 1000;
    await Deno.writeTextFile(`${root}/proc/diskstats`, stats(100, 100));
    // vda is not in this root's /sys/block: only nvme0n1 is a whole disk here.
    assert.deepEqual(Object.keys((await c.collect(0))!), [
      "disk.read_bps{dev=nvme0n1}",
      "disk.write_bps{dev=nvme0n1}",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createDiskIoCollector() with countersEveryMs adds the byte counters since boot, at most that often", async () => {
  assert.deepEqual(diskCounters(parseDiskstats(stats(1000, 2000))), {
    "disk.read_bytes_total{dev=vda}": 512000,
    "disk.written_bytes_total{dev=vda}": 1024000,
    "disk.read_bytes_total{dev=nvme0n1}": 8192,
    "disk.written_bytes_total{dev=nvme0n1}": 16384,
  });
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc`);
    await Deno.mkdir(`${root}/sys/block/vda`, { recursive: true });
    let now = 0;
    const c = createDiskIoCollector({ root, monotonic: () => now, countersEveryMs: 10_000 });
    await Deno.writeTextFile(`${root}/proc/diskstats`, stats(0, 0));
    assert.deepEqual(await c.collect(0), {
      "disk.read_bytes_total{dev=vda}": 0,
      "disk.written_bytes_total{dev=vda}": 0,
    }, "counters need no previous read");
    now = 1000;
    await Deno.writeTextFile(`${root}/proc/diskstats`, stats(100, 100));
    assert.deepEqual(Object.keys((await c.collect(0))!), [
      "disk.read_bps{dev=vda}",
      "disk.write_bps{dev=vda}",
    ]);
    now = 10_000;
    const s = (await c.collect(0))!;
    assert.equal(s["disk.read_bytes_total{dev=vda}"], 51200);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
