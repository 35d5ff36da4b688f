/**
 * Files in a volume for the snapshot tests: random data, small files with odd names, a symlink,
 * and a manifest (path → sha-256) to compare a restore with what was snapshotted.
 */
import { join } from "node:path";
import type { DockerClient } from "../../lib/docker/client.ts";
import { eventually, TEST_IMAGE, testLabels } from "../../lib/docker/testing.ts";

const MB = 1 << 20;

/** Every regular file under `dir` (relative path → sha-256 hex), and symlinks by target. */
export async function manifest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else if (e.isSymlink) out[p] = `-> ${await Deno.readLink(join(dir, p))}`;
      else {
        const data = await Deno.readFile(join(dir, p));
        const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
        out[p] = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
      }
    }
  }
  await walk("");
  return out;
}

/** Writes `mb` MiB of random bytes to `path` (from the kernel's generator, 1 MiB at a time). */
export async function randomFile(path: string, mb: number) {
  using src = await Deno.open("/dev/urandom");
  using dst = await Deno.open(path, { create: true, write: true, truncate: true });
  const buf = new Uint8Array(MB);
  for (let i = 0; i < mb; i++) {
    let n = 0;
    while (n < MB) n += (await src.read(buf.subarray(n))) ?? 0;
    await dst.write(buf);
  }
}

/** Small files with odd names, a folder, a symlink. */
export async function smallFiles(dir: string) {
  await Deno.mkdir(join(dir, "docs/deep"), { recursive: true });
  for (let i = 0; i < 200; i++) {
    await Deno.writeTextFile(join(dir, "docs", `file ${i} ünï.txt`), `content ${i}\n`.repeat(i));
  }
  await Deno.writeTextFile(join(dir, "docs/deep/-rf"), "odd name\n");
  await Deno.symlink("docs/file 1 ünï.txt", join(dir, "link"));
}

/**
 * A labelled volume `name` holding the small files and `mb` MiB of random data, and a running
 * test-image container `<name>-app` that mounts it at /data and has written `written.txt` there.
 * The caller removes both (the container first).
 */
export async function volumeInUse(
  docker: DockerClient,
  suite: string,
  name: string,
  mb: number,
): Promise<{ mountpoint: string; containerId: string }> {
  const v = await docker.createVolume({ name, labels: testLabels(suite) });
  await smallFiles(v.Mountpoint);
  await randomFile(join(v.Mountpoint, "big.bin"), mb);
  const { id } = await docker.createContainer(`${name}-app`, {
    image: TEST_IMAGE,
    cmd: ["sh", "-c", "echo from-container > /data/written.txt && exec sleep 1000000"],
    labels: testLabels(suite),
    binds: [`${name}:/data`],
  });
  await docker.startContainer(id);
  await eventually(
    async () => (await Deno.stat(join(v.Mountpoint, "written.txt")).catch(() => null)) ?? undefined,
    "the container to write its file",
    30_000,
  );
  return { mountpoint: v.Mountpoint, containerId: id };
}
