/**
 * Volume snapshots (issue 19), on the real engine with Debian's restic, to a filesystem target:
 * - `snapshot_mb_per_s`: a 1 GiB volume of real data (below) backed up by the agent's
 *   `snapshot.create` into a fresh repository: bytes restic processed ÷ the op's wall time (probe,
 *   init, unlock, backup, snapshot lookup), MB = 2^20 bytes. `snapshot_plain_restic_mb_per_s`: the
 *   same directory backed up by plain `restic init` + `restic backup` into a fresh repository, with
 *   the flags and environment the agent gives restic (repository version 2 so default `auto`
 *   compression, `--json`, `--no-cache`, the same tag and host). Three runs each, alternating
 *   (ROUNDS); each figure is the best of its three, and `snapshot_vs_restic_ratio` is their
 *   quotient (target ≥ 0.9: what Capstan adds is orchestration). Before each run the page cache is
 *   flushed and dropped (`/proc/sys/vm/drop_caches`), so every run reads the volume from disk; where
 *   that is not allowed every run reads it from a warm cache, which the writing left.
 * - `snapshot_incremental_s`: after 1 % of the files are rewritten with new content, a second
 *   `snapshot.create` into the repository of the last full run, its wall time;
 *   `snapshot_incremental_added_mb`: restic's `data_added` for it (compressed, MB).
 * - `snapshot_agent_rss_mb`: the peak resident memory (VmHWM) of the process running the op — a
 *   Deno process of its own (bench/snapshot_worker.ts) loading only the snapshot modules — over
 *   the full runs (target < 120); `snapshot_restic_rss_mb`: restic's peak, its child (sampled from
 *   /proc every 100 ms), for information.
 *
 * The data: 300 files of log-uniform sizes (16 KiB–16 MiB, scaled to 1 GiB in all) in 12 folders,
 * one xorshift128 stream over the whole GiB, so no chunk repeats and restic's deduplication finds
 * nothing to skip (sparse or repeated data would flatter the figure). Every fourth file is text of
 * 16 letters in 64-character lines (4 bits of entropy a byte: zstd halves it); the rest does not
 * compress.
 *
 *   deno run -A bench/snapshots_bench.ts
 */
import { join } from "node:path";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupSuite, testLabels, testName } from "../lib/docker/testing.ts";
import type { SnapshotChunk, SnapshotCreateParams } from "../lib/protocol/snapshots.ts";

type Recorder = (name: string, value: number) => void;
type Done = Extract<SnapshotChunk, { kind: "done" }>;

const SUITE = "snapshots-bench";
const MB = 1024 * 1024;
const PASSWORD = "bench-repository-password-0";
const HOST_TAG = "bench-host";
const TAG = "volume:bench";
const SEED = 0x5eed_2026;
/**
 * The full runs in order. This machine's 2 cores are shared with other work whose load comes and
 * goes within seconds: alternating, and the better of three each, keeps both sides' best moments.
 */
const ROUNDS = ["capstan", "plain", "plain", "capstan", "capstan", "plain"] as const;
/** A run longer than this is a failure (the whole bench is meant to take under 5 minutes). */
const RUN_TIMEOUT_MS = 600_000;

/** One file of the data set, relative to the volume's root. */
export interface PlannedFile {
  path: string;
  size: number;
  /** Letters in lines (compresses to about half) rather than incompressible bytes. */
  text: boolean;
}

/**
 * A seeded xorshift128 stream filling 32-bit words. Its period is 2^128 − 1, so a few GiB of it
 * never repeat; the seed is spread over the state by splitmix32 (an all-zero state stays zero).
 */
export function xorshift128(seed: number): (out: Uint32Array) => void {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let x = split(), y = split(), z = split(), w = split() || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
      out[i] = w;
    }
  };
}

/** `count` files whose sizes (log-uniform, 16 KiB–16 MiB before scaling) add up to `total`. */
export function planFiles(total: number, count: number, seed = SEED): PlannedFile[] {
  const words = new Uint32Array(count);
  xorshift128(seed ^ 0x51a5)(words);
  const lo = Math.log(16 * 1024), hi = Math.log(16 * MB);
  const raw = [...words].map((w) => Math.exp(lo + (w / 2 ** 32) * (hi - lo)));
  const scale = total / raw.reduce((a, b) => a + b, 0);
  const sizes = raw.map((r) => Math.max(1, Math.floor(r * scale)));
  sizes[count - 1] += total - sizes.reduce((a, b) => a + b, 0);
  return sizes.map((size, i) => ({
    path: `d${String(i % 12).padStart(2, "0")}/f${String(i).padStart(4, "0")}.${
      i % 4 === 3 ? "txt" : "bin"
    }`,
    size,
    text: i % 4 === 3,
  }));
}

/**
 * Writes `files` under `dir` from one xorshift128 stream seeded with `seed`, in 1 MiB pieces.
 * Text files map each random byte to one of 16 letters, with a newline every 65th byte.
 */
export async function writeFiles(dir: string, files: PlannedFile[], seed = SEED): Promise<void> {
  const next = xorshift128(seed);
  const words = new Uint32Array(MB / 4);
  const bytes = new Uint8Array(words.buffer);
  for (const f of files) {
    const path = join(dir, f.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    using file = await Deno.open(path, { create: true, write: true, truncate: true });
    for (let left = f.size; left > 0;) {
      next(words);
      const piece = bytes.subarray(0, Math.min(left, bytes.length));
      if (f.text) {
        for (let i = 0; i < piece.length; i++) {
          piece[i] = i % 65 === 64 ? 10 : 97 + (piece[i] & 15);
        }
      }
      for (let at = 0; at < piece.length;) at += await file.write(piece.subarray(at));
      left -= piece.length;
    }
  }
}

/** Flushes dirty pages and drops the page cache; false where this process may not. */
async function dropCaches(): Promise<boolean> {
  await new Deno.Command("sync", { stdout: "null", stderr: "null" }).output();
  try {
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "3");
    return true;
  } catch {
    return false;
  }
}

/** A process's `field` (kB) from /proc/<pid>/status, or 0 once it is gone. */
async function statusKb(pid: number, field: string): Promise<number> {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      await Deno.readTextFile(`/proc/${pid}/status`),
    );
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The ids of `parent`'s children, from /proc/<pid>/stat (the kernel lists no children here). */
async function childrenOf(parent: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      // After the parenthesised command name: state, then the parent's id.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent) {
        out.push(Number(e.name));
      }
    } catch { /* gone meanwhile */ }
  }
  return out;
}

interface CapstanRun {
  opS: number;
  done: Done;
  agentMb: number;
  resticMb: number;
}

/** One `snapshot.create` in bench/snapshot_worker.ts, with restic's peak memory sampled. */
async function capstanSnapshot(params: SnapshotCreateParams, tmpRoot: string): Promise<CapstanRun> {
  const root = new URL("../", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, `${root}bench/snapshot_worker.ts`],
    cwd: root,
    env: { SNAPSHOT_WORKER_TMP: tmpRoot },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(params)));
  await writer.close();
  let resticKb = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of await childrenOf(child.pid)) {
        resticKb = Math.max(resticKb, await statusKb(pid, "VmHWM"));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const out = await new Response(child.stdout).text();
  const status = await child.status;
  sampling = false;
  await sampler;
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  const done = lines.find((l) => l.kind === "done") as Done | undefined;
  const measured = lines.find((l) => l.kind === "measured");
  if (!status.success || !done || !measured) {
    throw new Error(`snapshot worker (exit ${status.code}): ${JSON.stringify(lines.at(-2))}`);
  }
  return {
    opS: measured.op_s,
    done,
    agentMb: measured.vm_hwm_kb / 1024,
    resticMb: resticKb / 1024,
  };
}

/** Plain `restic init` + `restic backup` of `dir` into the fresh repository `repo`: seconds. */
async function plainRestic(dir: string, repo: string, tmp: string): Promise<number> {
  const passwordFile = join(tmp, "password");
  await Deno.writeTextFile(passwordFile, PASSWORD, { mode: 0o600 });
  // What the agent gives restic (agent/snapshots/restic.ts): a cleared environment, 4 progress
  // lines a second, JSON output, no cache.
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: tmp,
    TMPDIR: tmp,
    LANG: "C",
    RESTIC_PROGRESS_FPS: "4",
    RESTIC_REPOSITORY: repo,
    RESTIC_PASSWORD_FILE: passwordFile,
  };
  const restic = async (args: string[]) => {
    const r = await new Deno.Command("restic", {
      args: ["--json", "--no-cache", ...args],
      cwd: dir,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
    }).output();
    if (!r.success) {
      throw new Error(`restic ${args[0]}: ${new TextDecoder().decode(r.stderr).slice(-500)}`);
    }
  };
  const t = performance.now();
  await restic(["init", "--repository-version", "2"]);
  await restic(["backup", "--host", HOST_TAG, "--tag", TAG, "--", "."]);
  return (performance.now() - t) / 1000;
}

/** The snapshot figures: a 1 GiB volume, Capstan's op against plain restic, then 1 % changed. */
export async function snapshotsBench(record: Recorder): Promise<void> {
  const docker = createDockerClient({ timeoutMs: 120_000 });
  const root = await Deno.makeTempDir({ prefix: "capstan-bench-snapshots-" });
  try {
    const volume = testName(SUITE, "data");
    const { Mountpoint: dir } = await docker.createVolume({
      name: volume,
      labels: testLabels(SUITE),
    });
    const files = planFiles(1024 * MB, 300);
    let t = performance.now();
    await writeFiles(dir, files);
    console.log(`  (wrote ${files.length} files, 1 GiB, in ${secs(t)} s)`);
    const cold = await dropCaches();
    console.log(`  (${cold ? "page cache dropped before each run" : "warm page cache"})`);

    const tmpRoot = join(root, "tmp");
    await Deno.mkdir(tmpRoot);
    let last = "";
    const params = (repo: string, id: string): SnapshotCreateParams => ({
      snapshot_id: `bench-${id}`,
      volume,
      target: { kind: "filesystem", path: join(root, repo) },
      password: PASSWORD,
      tags: [TAG],
      host_tag: HOST_TAG,
    });
    const ours: CapstanRun[] = [];
    const plain: number[] = [];
    // Each run into a repository of its own, removed after it; the last of ours stays for the
    // incremental snapshot.
    for (const [i, who] of ROUNDS.entries()) {
      const repo = `${who}${i}`;
      await dropCaches();
      if (who === "capstan") {
        const r = await capstanSnapshot(params(repo, repo), tmpRoot);
        ours.push(r);
        console.log(
          `  (capstan: ${r.opS.toFixed(2)} s, restic backup ${
            r.done.duration_s.toFixed(2)
          } s of it, ${mbps(r.done.total_bytes_processed, r.opS)} MB/s, agent ${
            r.agentMb.toFixed(1)
          } MB, restic ${r.resticMb.toFixed(1)} MB)`,
        );
        last = repo;
      } else {
        const s = await plainRestic(dir, join(root, repo), tmpRoot);
        plain.push(s);
        console.log(`  (plain restic: ${s.toFixed(2)} s, ${mbps(1024 * MB, s)} MB/s)`);
      }
      if (i !== ROUNDS.lastIndexOf("capstan")) {
        await Deno.remove(join(root, repo), { recursive: true });
      }
    }

    const bytes = ours[0].done.total_bytes_processed;
    if (bytes !== 1024 * MB) throw new Error(`restic processed ${bytes} bytes, not 1 GiB`);
    const best = Math.min(...ours.map((r) => r.opS));
    const bestPlain = Math.min(...plain);
    record("snapshot_mb_per_s", bytes / MB / best);
    record("snapshot_plain_restic_mb_per_s", bytes / MB / bestPlain);
    record("snapshot_vs_restic_ratio", bestPlain / best);
    record("snapshot_agent_rss_mb", Math.max(...ours.map((r) => r.agentMb)));
    record("snapshot_restic_rss_mb", Math.max(...ours.map((r) => r.resticMb)));

    // 1 % of the files get new content (same sizes, a stream of another seed).
    const changed = files.filter((_, i) => i % 100 === 50);
    t = performance.now();
    await writeFiles(dir, changed, SEED + 1);
    await dropCaches();
    const inc = await capstanSnapshot(params(last, "incremental"), tmpRoot);
    console.log(
      `  (incremental: ${changed.length} files rewritten, ${inc.done.files_changed} changed, ${inc.done.files_unmodified} unmodified)`,
    );
    if (inc.done.files_changed !== changed.length) {
      throw new Error(`restic saw ${inc.done.files_changed} changed files, not ${changed.length}`);
    }
    record("snapshot_incremental_s", inc.opS);
    record("snapshot_incremental_added_mb", inc.done.data_added / MB);
  } finally {
    await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
    await Deno.remove(root, { recursive: true }).catch(() => {});
    docker.close();
  }
}

const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const mbps = (bytes: number, s: number) => (bytes / MB / s).toFixed(1);

if (import.meta.main) {
  await snapshotsBench((n, v) => console.log(`${n.padEnd(40)} ${Math.round(v * 100) / 100}`));
}
