import assert from "node:assert/strict";
import { SERIES_KEY } from "../../lib/protocol/metrics.ts";
import {
  createFilesystemsCollector,
  filesystemSeries,
  parseMounts,
  selectFilesystems,
} from "./filesystems.ts";

const MOUNTS = `proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
devtmpfs /dev devtmpfs rw,relatime,size=12334460k 0 0
tmpfs /dev/shm tmpfs rw,relatime 0 0
/dev/vda / ext4 rw,relatime 0 0
/dev/vdb1 /data xfs rw 0 0
/dev/vdc1 /mnt/my\\040disk ext4 rw 0 0
/dev/sda1 /boot/efi vfat rw 0 0
/dev/loop3 /snap/core/123 squashfs ro 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
/dev/vda /var/lib/docker ext4 rw,relatime 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw,lowerdir=x 0 0
/dev/vdb1 /srv/bind xfs rw 0 0
/dev/vdd /opt/images ext4 rw 0 0
nas:/export /mnt/nas nfs4 rw 0 0
`;

Deno.test("parseMounts() unescapes octal sequences in mount points", () => {
  const m = parseMounts(MOUNTS);
  assert.equal(m.find((e) => e.source === "/dev/vdc1")?.target, "/mnt/my disk");
});

Deno.test("selectFilesystems() keeps real filesystems once each, outside Docker's own mounts", () => {
  const picked = selectFilesystems(parseMounts(MOUNTS), [
    "/proc",
    "/sys",
    "/dev",
    "/var/lib/docker",
    "/opt/images",
  ]);
  assert.deepEqual(picked.map((m) => m.target), ["/", "/boot/efi", "/data", "/mnt/my disk"]);
});

Deno.test("selectFilesystems() accepts overlay only as the root (an agent inside a container)", () => {
  const m = parseMounts("overlay / overlay rw 0 0\noverlay /other overlay rw 0 0\n");
  assert.deepEqual(selectFilesystems(m).map((e) => e.target), ["/"]);
});

Deno.test("filesystemSeries() reports bytes, inodes and df's Use%", () => {
  const s = filesystemSeries("/mnt/my disk", {
    bsize: 4096,
    blocks: 1000,
    bfree: 300, // 700 used
    bavail: 200, // 100 reserved for root
    files: 500,
    ffree: 400,
  });
  assert.deepEqual(s, {
    "fs.used_bytes{mount=/mnt/my_disk}": 700 * 4096,
    "fs.total_bytes{mount=/mnt/my_disk}": 1000 * 4096,
    "fs.used_pct{mount=/mnt/my_disk}": 77.78,
    "fs.inodes_used{mount=/mnt/my_disk}": 100,
    "fs.inodes_total{mount=/mnt/my_disk}": 500,
    "fs.inodes_used_pct{mount=/mnt/my_disk}": 20,
  });
  for (const k of Object.keys(s)) assert.match(k, SERIES_KEY);
  const noInodes = filesystemSeries("/boot/efi", {
    bsize: 512,
    blocks: 10,
    bfree: 5,
    bavail: 5,
    files: 0,
    ffree: 0,
  });
  assert.equal(Object.keys(noInodes).length, 3);
});

Deno.test("createFilesystemsCollector() statfs()s each selected mount below the root", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc/self`, { recursive: true });
    await Deno.mkdir(`${root}/data`);
    // "/" and "/data" below the temp root are directories of the real root filesystem: statfs works.
    await Deno.writeTextFile(
      `${root}/proc/self/mounts`,
      "/dev/x / ext4 rw 0 0\n/dev/y /data xfs rw 0 0\n/dev/z /gone ext4 rw 0 0\n",
    );
    const s = (await createFilesystemsCollector({ root }).collect(0))!;
    assert.ok(s["fs.total_bytes{mount=/}"] > 0);
    assert.ok(s["fs.used_bytes{mount=/data}"] > 0);
    assert.equal(
      s["fs.total_bytes{mount=/gone}"],
      undefined,
      "a mount that cannot be statfs()ed is skipped",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
