/**
 * The agent's side of volume snapshots (lib/protocol/snapshots.ts): restic backs a volume's
 * directory up into a repository on the org's target, restores a snapshot into a volume, and
 * lists, forgets, checks and unlocks the repository.
 *
 * restic runs as an argv array with `--json`, in its own process group, with an environment
 * cleared down to an allowlist. Secrets never reach argv, a chunk or a log line: the repository
 * password is a 0600 file named by RESTIC_PASSWORD_FILE, S3 keys are environment variables, an
 * SSH key is a 0600 file named by a generated ssh_config, all in a private temporary folder
 * (0700, also restic's TMPDIR, so half-written packs of a killed run go with it) removed after
 * each run. What restic prints is scrubbed of the secrets before it is shown.
 *
 * The volume is read at its mountpoint on the host (the agent runs as root) with the mountpoint
 * as the working directory and `.` as the path, so the snapshot's tree starts at the volume's root
 * and restores into any volume. A backup is "done" only when restic exits 0 with its summary; a
 * killed run leaves a stale lock that `restic unlock` (run before each backup) removes.
 */
import { join } from "node:path";
import type { z } from "zod";
import type { DockerClient } from "../../lib/docker/client.ts";
import {
  SNAPSHOT_CALL_OPS,
  type SnapshotChunk,
  SnapshotCreateParams,
  SnapshotRestoreParams,
} from "../../lib/protocol/snapshots.ts";
import { OpError } from "../control.ts";
import {
  lineSink,
  SAFE_PATH,
  secretScrubber,
  sshConfig,
  treeSize,
  writePrivate,
} from "../build/git.ts";

/** Where restic runs and keeps its files. */
export interface ResticOptions {
  /** The restic binary (default `restic` on PATH). */
  resticBin?: string;
  /** Where the private folder of each run is made (default: the system's temporary folder). */
  tmpRoot?: string;
  /** restic's cache (speeds up incremental backups to remote targets); absent: `--no-cache`. */
  cacheDir?: string;
  /** Least time between two progress chunks. */
  progressMs?: number;
}

type Target = z.output<typeof SNAPSHOT_CALL_OPS["snapshot.unlock"]>["target"];

/** How restic reaches one target: its repository string, extra environment, flags and files. */
export interface RepositoryAccess {
  repository: string;
  env: Record<string, string>;
  args: string[];
  /** Files to write into the private folder first (name → content), each 0600. */
  files: Record<string, string>;
}

/** The ssh_config alias restic's sftp command connects to (the real address is in the config). */
const SFTP_ALIAS = "capstan-target";
const MAX_LINE = 2000;
const KILL_GRACE_MS = 5_000;
const MAX_ERROR_LINES = 50;

/**
 * How restic reaches `target` when the private folder is `tmp`. Pure: the caller writes `files`.
 * Credentials go to `env` or `files`, never to `args` or the repository string.
 */
export function repositoryAccess(target: Target, tmp: string): RepositoryAccess {
  if (!SAFE_PATH.test(tmp)) throw new Error(`unexpected temporary folder name ${tmp}`);
  if (target.kind === "filesystem") {
    return { repository: target.path, env: {}, args: [], files: {} };
  }
  if (target.kind === "s3") {
    const prefix = target.prefix.replace(/^\/+|\/+$/g, "");
    const endpoint = target.endpoint.replace(/\/+$/, "");
    const env: Record<string, string> = {
      AWS_ACCESS_KEY_ID: target.access_key_id,
      AWS_SECRET_ACCESS_KEY: target.secret_access_key,
    };
    if (target.region) env.AWS_DEFAULT_REGION = target.region;
    const args = ["-o", `s3.bucket-lookup=${target.path_style ? "path" : "dns"}`];
    const files: Record<string, string> = {};
    if (target.ca_cert_pem) {
      files["ca.pem"] = target.ca_cert_pem;
      args.push("--cacert", join(tmp, "ca.pem"));
    }
    return {
      repository: `s3:${endpoint}/${target.bucket}${prefix ? `/${prefix}` : ""}`,
      env,
      args,
      files,
    };
  }
  // restic splits sftp.command itself (quotes and spaces, no shell); every value in it is a fixed
  // word or the private folder's plain path, and the host, port, user and key are in the config.
  const pinned = target.known_hosts !== undefined && target.known_hosts.trim() !== "";
  const key = target.private_key.replace(/\r\n/g, "\n");
  const config = [
    `Host ${SFTP_ALIAS}`,
    `  HostName ${target.host.replace(/^\[(.*)\]$/, "$1")}`,
    `  Port ${target.port}`,
    `  User ${target.user}`,
    "",
    sshConfig(tmp, pinned),
  ].join("\n");
  return {
    repository: `sftp:${SFTP_ALIAS}:${target.path}`,
    env: {},
    args: ["-o", `sftp.command=ssh -F ${join(tmp, "ssh_config")} ${SFTP_ALIAS} -s sftp`],
    files: {
      id: key.endsWith("\n") ? key : `${key}\n`,
      known_hosts: pinned ? `${target.known_hosts!.replace(/\r\n/g, "\n").trim()}\n` : "",
      ssh_config: config,
    },
  };
}

/** What one restic run gave: its exit code, and the last lines it printed (scrubbed). */
interface ResticResult {
  code: number;
  tail: string[];
}

/** One repository opened for a few restic runs: the private folder lives until `close`. */
interface Session {
  run(
    args: string[],
    opts?: { cwd?: string; onJson?: (v: Record<string, unknown>) => void; keep?: boolean },
  ): Promise<ResticResult & { out: string[] }>;
  scrub(line: string): string;
}

/** Whether restic's messages say the repository was never made. */
function isMissingRepository(r: ResticResult): boolean {
  return /Is there a repository at the following location|repository does not exist|unable to open config file/i
    .test(r.tail.join("\n"));
}

/** The error of a failed run, restic's last meaningful line included. */
function failed(what: string, r: ResticResult): OpError {
  const last = r.tail.filter((l) => /fatal|error|unable|failed|denied|refused/i.test(l)).at(-1) ??
    r.tail.at(-1) ?? "";
  return new OpError({
    status: 502,
    code: "restic_failed",
    message: `Cannot ${what}: restic exited with ${r.code}${
      last ? ` (${last.slice(0, 500)})` : ""
    }`,
  });
}

/** Snapshot operations against the local engine and restic. */
export function snapshotOps(docker: DockerClient, opts: ResticOptions = {}) {
  const bin = opts.resticBin ?? "restic";
  const progressMs = opts.progressMs ?? 250;
  const engine = () => ({ signal: AbortSignal.timeout(30_000) });

  /** Runs `body` with the repository of `target` reachable; the private folder goes after. */
  async function withRepository<T>(
    target: Target,
    password: string,
    stop: AbortSignal,
    body: (s: Session) => Promise<T>,
  ): Promise<T> {
    const tmp = await Deno.makeTempDir({ dir: opts.tmpRoot, prefix: "capstan-restic-" });
    try {
      await Deno.chmod(tmp, 0o700);
      const access = repositoryAccess(target, tmp);
      for (const [name, content] of Object.entries(access.files)) {
        await writePrivate(join(tmp, name), content);
      }
      await writePrivate(join(tmp, "password"), password);
      const secrets = [password];
      if (target.kind === "s3") secrets.push(target.secret_access_key);
      const scrub = secretScrubber(secrets);
      const env = {
        PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: tmp,
        TMPDIR: tmp,
        LANG: "C",
        RESTIC_PROGRESS_FPS: String(Math.max(1, Math.round(1000 / progressMs))),
        RESTIC_REPOSITORY: access.repository,
        RESTIC_PASSWORD_FILE: join(tmp, "password"),
        ...access.env,
      };
      const common = [
        "--json",
        ...(opts.cacheDir ? ["--cache-dir", opts.cacheDir] : ["--no-cache"]),
        ...access.args,
      ];
      return await body({
        scrub,
        run: (args, o = {}) =>
          runRestic({ bin, args: [...common, ...args], env, cwd: o.cwd, stop, scrub, ...o }),
      });
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }

  /** Makes the repository when it does not exist yet. */
  async function ensureRepository(s: Session): Promise<void> {
    const probe = await s.run(["cat", "config"]);
    if (probe.code === 0) return;
    if (!isMissingRepository(probe)) throw failed("open the repository", probe);
    const init = await s.run(["init", "--repository-version", "2"]);
    if (init.code !== 0) throw failed("create the repository", init);
  }

  /** The local volume's directory on this host. */
  async function mountpoint(volume: string): Promise<string> {
    const v = await docker.inspectVolume(volume, engine());
    if (v.Driver !== "local" || !v.Mountpoint?.startsWith("/")) {
      throw new OpError({
        status: 400,
        code: "not_supported",
        message: `Cannot snapshot volume "${volume}": only volumes of the local driver can be`,
      });
    }
    return v.Mountpoint;
  }

  /** Emits progress at most every `progressMs`. */
  function throttled(emit: (c: SnapshotChunk) => void) {
    let last = 0;
    return (c: Extract<SnapshotChunk, { kind: "progress" }>) => {
      const now = performance.now();
      if (now - last < progressMs) return;
      last = now;
      emit(c);
    };
  }

  /** Runs a stream op: the deadline and the caller's abort stop restic; one end chunk. */
  async function streamed(
    what: string,
    timeoutS: number,
    signal: AbortSignal,
    emit: (c: SnapshotChunk) => void,
    body: (stop: AbortSignal) => Promise<SnapshotChunk>,
  ): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutS * 1000);
    const stop = AbortSignal.any([signal, deadline]);
    let end: SnapshotChunk;
    try {
      end = await body(stop);
    } catch (err) {
      const message = signal.aborted
        ? `The ${what} was cancelled`
        : deadline.aborted
        ? `The ${what} took longer than ${timeoutS} s`
        : err instanceof Error
        ? err.message
        : String(err);
      end = { kind: "failed", message: message.slice(0, 4000) };
    }
    emit(end);
  }

  async function create(raw: unknown, emit: (c: SnapshotChunk) => void, signal: AbortSignal) {
    const p = SnapshotCreateParams.parse(raw ?? {});
    const dir = await mountpoint(p.volume);
    const progress = throttled(emit);
    await streamed(
      "snapshot",
      p.timeout_s,
      signal,
      emit,
      (stop) =>
        withRepository(p.target, p.password, stop, async (s) => {
          await ensureRepository(s);
          const unlock = await s.run(["unlock"]);
          if (unlock.code !== 0) throw failed("remove stale locks", unlock);
          let summary: Record<string, unknown> | undefined;
          const r = await s.run([
            "backup",
            "--host",
            p.host_tag,
            ...p.tags.flatMap((t) => ["--tag", t]),
            ...(p.exclude ?? []).flatMap((e) => ["--exclude", e]),
            "--",
            ".",
          ], {
            cwd: dir,
            onJson: (v) => {
              if (v.message_type === "status") progress(progressChunk(v));
              else if (v.message_type === "summary") summary = v;
            },
          });
          if (stop.aborted) throw stop.reason;
          if (r.code === 3) {
            throw new OpError({
              status: 502,
              code: "restic_failed",
              message: "The snapshot is incomplete: some files of the volume could not be read",
            });
          }
          if (r.code !== 0 || !summary) throw failed("snapshot the volume", r);
          const short = String(summary.snapshot_id ?? "");
          const listed = await s.run(["snapshots", "--", short], { keep: true });
          const full = parseJson<{ id: string }[]>(listed.out)?.find((x) => x.id.startsWith(short));
          const n = (k: string) => Number(summary![k] ?? 0);
          return {
            kind: "done",
            restic_id: full?.id ?? short,
            files_new: n("files_new"),
            files_changed: n("files_changed"),
            files_unmodified: n("files_unmodified"),
            data_added: n("data_added"),
            total_files_processed: n("total_files_processed"),
            total_bytes_processed: n("total_bytes_processed"),
            duration_s: n("total_duration"),
          };
        }),
    );
  }

  async function restore(raw: unknown, emit: (c: SnapshotChunk) => void, signal: AbortSignal) {
    const p = SnapshotRestoreParams.parse(raw ?? {});
    await docker.createVolume({ name: p.volume, labels: p.labels }, engine());
    const dir = await mountpoint(p.volume);
    const progress = throttled(emit);
    const started = performance.now();
    await streamed(
      "restore",
      p.timeout_s,
      signal,
      emit,
      (stop) =>
        withRepository(p.target, p.password, stop, async (s) => {
          // restic 0.14 prints no progress while restoring: the size it will restore, and what is
          // in the volume so far, make the progress.
          const stats = await s.run(["stats", "--mode", "restore-size", "--", p.restic_id], {
            keep: true,
          });
          if (stats.code !== 0) throw failed("read the snapshot", stats);
          const size = parseJson<{ total_size?: number; total_file_count?: number }>(stats.out) ??
            {};
          const totalBytes = size.total_size ?? 0;
          if (p.wipe) await emptyDir(dir);
          const base = p.wipe ? 0 : await treeSize(dir);
          const watching = new AbortController();
          const watch = (async () => {
            while (!watching.signal.aborted) {
              await new Promise((r) => setTimeout(r, Math.max(progressMs, 1000)));
              if (watching.signal.aborted) return;
              const done = Math.max(0, (await treeSize(dir)) - base);
              progress({
                kind: "progress",
                percent_done: totalBytes ? Math.min(1, done / totalBytes) : 0,
                bytes_done: Math.min(done, totalBytes),
                total_bytes: totalBytes,
                files_done: 0,
                total_files: size.total_file_count ?? 0,
                seconds_elapsed: Math.round((performance.now() - started) / 1000),
              });
            }
          })();
          let r: ResticResult;
          try {
            r = await s.run(["restore", "--target", dir, "--", p.restic_id]);
          } finally {
            watching.abort();
            await watch;
          }
          if (stop.aborted) throw stop.reason;
          if (r.code !== 0) throw failed("restore the snapshot", r);
          return {
            kind: "done",
            restic_id: p.restic_id,
            files_new: size.total_file_count ?? 0,
            files_changed: 0,
            files_unmodified: 0,
            data_added: 0,
            total_files_processed: size.total_file_count ?? 0,
            total_bytes_processed: totalBytes,
            duration_s: (performance.now() - started) / 1000,
          };
        }),
    );
  }

  type Calls = {
    [O in keyof typeof SNAPSHOT_CALL_OPS]: (
      p: z.output<(typeof SNAPSHOT_CALL_OPS)[O]>,
    ) => Promise<unknown>;
  };
  const deadline = (s: number) => AbortSignal.timeout(s * 1000);
  const calls: Calls = {
    "snapshots.list": (p) =>
      withRepository(p.target, p.password, deadline(600), async (s) => {
        const r = await s.run([
          "snapshots",
          ...(p.tags?.length ? ["--tag", p.tags.join(",")] : []),
          ...(p.host_tag ? ["--host", p.host_tag] : []),
        ], { keep: true });
        if (r.code !== 0 && isMissingRepository(r)) return { snapshots: [] };
        if (r.code !== 0) throw failed("list the snapshots", r);
        const list = parseJson<Record<string, unknown>[]>(r.out) ?? [];
        return {
          snapshots: list.map((x) => ({
            id: String(x.id),
            short_id: String(x.short_id ?? String(x.id).slice(0, 8)),
            time: String(x.time),
            hostname: String(x.hostname ?? ""),
            tags: (x.tags as string[] | undefined) ?? [],
            paths: (x.paths as string[] | undefined) ?? [],
            ...(x.summary ? { summary: x.summary } : {}),
          })),
        };
      }),
    "snapshot.forget": (p) =>
      withRepository(p.target, p.password, deadline(p.timeout_s), async (s) => {
        const unlock = await s.run(["unlock"]);
        if (unlock.code !== 0) throw failed("remove stale locks", unlock);
        const keep = Object.entries(p.keep).filter(([, v]) => v !== undefined)
          .flatMap(([k, v]) => [`--keep-${k}`, String(v)]);
        const r = await s.run([
          "forget",
          "--prune",
          ...(p.dry_run ? ["--dry-run"] : []),
          // The policy applies across every snapshot carrying `tags`, not per host and path.
          "--group-by",
          "",
          ...(p.tags?.length ? ["--tag", p.tags.join(",")] : []),
          ...keep,
          ...(p.ids ? ["--", ...p.ids] : []),
        ], { keep: true });
        if (r.code !== 0) throw failed("forget snapshots", r);
        const groups = parseJson<{ keep?: { id: string }[]; remove?: { id: string }[] }[]>(r.out);
        if (p.ids) return { removed: p.dry_run ? [] : p.ids, kept: [] };
        return {
          removed: (groups ?? []).flatMap((g) => g.remove ?? []).map((x) => x.id),
          kept: (groups ?? []).flatMap((g) => g.keep ?? []).map((x) => x.id),
        };
      }),
    "snapshot.check": (p) =>
      withRepository(p.target, p.password, deadline(p.timeout_s), async (s) => {
        const r = await s.run([
          "check",
          ...(p.read_data_subset ? ["--read-data-subset", p.read_data_subset] : []),
        ], { keep: true });
        if (r.code === 0) return { ok: true };
        if (isMissingRepository(r)) throw failed("check the repository", r);
        const errors = [...r.out, ...r.tail].filter((l) =>
          /error|fatal|invalid|damaged|missing|does not match|failed/i.test(l)
        );
        return { ok: false, errors: [...new Set(errors)].slice(0, MAX_ERROR_LINES) };
      }),
    "snapshot.unlock": (p) =>
      withRepository(p.target, p.password, deadline(600), async (s) => {
        const r = await s.run(["unlock"]);
        if (r.code !== 0) throw failed("remove stale locks", r);
        return { ok: true };
      }),
  };

  return { calls, create, restore };
}

/** The progress chunk of one restic status line. */
function progressChunk(v: Record<string, unknown>): Extract<SnapshotChunk, { kind: "progress" }> {
  const n = (k: string) => Number(v[k] ?? 0) || 0;
  return {
    kind: "progress",
    percent_done: n("percent_done"),
    bytes_done: n("bytes_done"),
    total_bytes: n("total_bytes"),
    files_done: n("files_done"),
    total_files: n("total_files"),
    seconds_elapsed: n("seconds_elapsed"),
  };
}

/** The first line of `out` that parses as JSON of the expected shape (restic's answer). */
function parseJson<T>(out: string[]): T | undefined {
  for (const line of out) {
    if (!/^[\[{]/.test(line)) continue;
    try {
      return JSON.parse(line) as T;
    } catch { /* a progress line cut short, or text */ }
  }
  return undefined;
}

/** Removes everything inside `dir` (not `dir` itself, the volume's mountpoint). */
async function emptyDir(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    await Deno.remove(join(dir, e.name), { recursive: true });
  }
}

/** Largest stdout kept for a run whose answer is read (`keep`), in lines. */
const MAX_KEPT_LINES = 100_000;

/**
 * Runs restic once. Stdout lines that are JSON go to `onJson` as they come; with `keep` every
 * stdout line is kept too (bounded). The last stderr and non-JSON lines (scrubbed) are the tail.
 * restic runs in its own process group; a stop kills the group, and pipes held past a grace
 * period are let go, so a stop always returns.
 */
async function runRestic(o: {
  bin: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  stop: AbortSignal;
  scrub: (line: string) => string;
  onJson?: (v: Record<string, unknown>) => void;
  keep?: boolean;
}): Promise<ResticResult & { out: string[] }> {
  if (o.stop.aborted) throw o.stop.reason;
  const child = new Deno.Command(o.bin, {
    args: o.args,
    cwd: o.cwd,
    clearEnv: true,
    env: o.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const letGo = new AbortController();
  let grace: ReturnType<typeof setTimeout> | undefined;
  const kill = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* already gone */ }
    grace = setTimeout(() => letGo.abort(), KILL_GRACE_MS);
  };
  o.stop.addEventListener("abort", kill, { once: true });
  const tail: string[] = [];
  const out: string[] = [];
  const note = (raw: string) => {
    tail.push(o.scrub(raw).slice(0, MAX_LINE));
    if (tail.length > 40) tail.shift();
  };
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    lineSink((line) => {
      if (o.keep && out.length < MAX_KEPT_LINES) out.push(o.scrub(line));
      if (line.startsWith("{") && o.onJson) {
        try {
          o.onJson(JSON.parse(line));
          return;
        } catch { /* not JSON after all */ }
      }
      if (!line.startsWith("{")) note(line);
    }),
    { signal: letGo.signal },
  ).catch(() => {});
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    lineSink(note),
    { signal: letGo.signal },
  ).catch(() => {});
  try {
    const [status] = await Promise.all([child.status, stdout, stderr]);
    if (o.stop.aborted) throw o.stop.reason;
    return { code: status.code, tail, out };
  } finally {
    o.stop.removeEventListener("abort", kill);
    clearTimeout(grace);
  }
}
