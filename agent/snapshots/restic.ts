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
 *
 * Consistency modes: `live` reads the volume as it is; `stop` stops the given containers, backs
 * the volume up into a local staging repository (staging.ts), starts them again whatever
 * happened, then `restic copy`s the staged snapshot to the target; `dump` pipes a database dump
 * tool run by exec (dump.ts) into `restic backup --stdin`. Without restic ≥ 0.14 on the host the
 * operations fail with `restic_missing`; the hello reports the version found (`version()`).
 */
import { join, tmpdir } from "../path.ts";
import type * as z from "zod";
import type { DockerClient } from "../../lib/docker/client.ts";
import {
  MIN_RESTIC_VERSION,
  parseResticVersion,
  resticSupported,
  SNAPSHOT_CALL_OPS,
  type SnapshotChunk,
  SnapshotCreateParams,
  SnapshotRestoreParams,
} from "../../lib/protocol/snapshots.ts";
import { OpError } from "../control.ts";
import { prepareDump, runDump } from "./dump.ts";
import { oneAtATime, repositoryExists, stagingRepository, targetIdentity } from "./staging.ts";
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
  /**
   * Where `stop` mode keeps its local staging repositories, one per target (default
   * `<tmpRoot>/capstan-staging`; the agent puts it in its state folder).
   */
  stagingDir?: string;
}

type CreateParams = z.output<typeof SnapshotCreateParams>;
type Progress = Extract<SnapshotChunk, { kind: "progress" }>;
type Done = Extract<SnapshotChunk, { kind: "done" }>;

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

/** How one restic run goes beyond its arguments. */
interface RunOptions {
  cwd?: string;
  /** Each JSON line restic prints. */
  onJson?: (v: Record<string, unknown>) => void;
  /** Each other line restic prints on stdout (scrubbed). */
  onText?: (line: string) => void;
  /** Keep every stdout line (the answer of a query). */
  keep?: boolean;
  /** Variables over the session's (another repository for this run). */
  env?: Record<string, string>;
  /**
   * Writes restic's stdin (restic then runs with `--stdin`). Stdin is closed only when this
   * resolves; when it throws, restic is killed first, so a failed feed never ends as a snapshot.
   */
  feed?: (w: WritableStreamDefaultWriter<Uint8Array>) => Promise<unknown>;
}

/** One repository opened for a few restic runs: the private folder lives until `close`. */
interface Session {
  run(args: string[], opts?: RunOptions): Promise<ResticResult & { out: string[] }>;
  scrub(line: string): string;
  /** The target's repository string and password file (for `copy --from-repo` and the like). */
  repository: string;
  passwordFile: string;
}

/** restic could not take its lock: another process holds an exclusive one (or a dead one did). */
const LOCKED = /already locked|unable to create lock/i;

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

/**
 * The version of the restic at `bin` ("0.14.0"), or null when there is none there (or it does
 * not answer like restic).
 */
export async function resticVersion(bin = "restic"): Promise<string | null> {
  try {
    const out = await new Deno.Command(bin, {
      args: ["version"],
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin", LANG: "C" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(10_000),
    }).output();
    if (!out.success) return null;
    return parseResticVersion(new TextDecoder().decode(out.stdout.subarray(0, 4096)));
  } catch {
    return null;
  }
}

/** The error of a host whose restic cannot take snapshots (none, or older than 0.14). */
function resticMissing(version: string | null): OpError {
  return new OpError({
    status: 501,
    code: "restic_missing",
    message: version === null
      ? "restic is not installed on this host: install the restic package (≥ 0.14) to snapshot its volumes"
      : `restic ${version} on this host is too old: snapshots need restic ≥ ${MIN_RESTIC_VERSION} (compression); upgrade the restic package`,
  });
}

/** How long a probed restic version is believed. */
const VERSION_TTL_MS = 60_000;

/** Snapshot operations against the local engine and restic. */
export function snapshotOps(docker: DockerClient, opts: ResticOptions = {}) {
  const bin = opts.resticBin ?? "restic";
  const progressMs = opts.progressMs ?? 250;
  const stagingRoot = opts.stagingDir ?? join(opts.tmpRoot ?? tmpdir(), "capstan-staging");
  const engine = () => ({ signal: AbortSignal.timeout(30_000) });
  let probed: { at: number; version: Promise<string | null> } | undefined;

  /** This host's restic version (probed at most once a minute), null without one. */
  function version(): Promise<string | null> {
    if (!probed || performance.now() - probed.at > VERSION_TTL_MS) {
      probed = { at: performance.now(), version: resticVersion(bin) };
    }
    return probed.version;
  }

  /** Throws `restic_missing` unless this host's restic can take snapshots. */
  async function requireRestic(): Promise<void> {
    const v = await version();
    if (!resticSupported(v)) {
      probed = undefined; // installed in the meantime? the next call looks again
      throw resticMissing(v);
    }
  }

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
        repository: access.repository,
        passwordFile: env.RESTIC_PASSWORD_FILE,
        run: (args, o = {}) =>
          runRestic({
            bin,
            stop,
            scrub,
            ...o,
            args: [...common, ...args],
            env: { ...env, ...o.env },
          }),
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

  /** Emits progress at most every `progressMs` (a `force`d one always: a phase begins). */
  function throttled(emit: (c: SnapshotChunk) => void) {
    let last = 0;
    return (c: Progress, force = false) => {
      const now = performance.now();
      if (!force && now - last < progressMs) return;
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

  /** Removes stale locks (a killed run's) from the repository of `env` (default: the target). */
  async function unlock(s: Session, env?: Record<string, string>): Promise<void> {
    const r = await s.run(["unlock"], { env });
    if (r.code !== 0) throw failed("remove stale locks", r);
  }

  /**
   * One `restic backup` of `source` (["--", "."] in `cwd`, or the --stdin flags with a `feed`)
   * into the repository of `env` (default: the target); its summary when restic says it is done.
   */
  async function backup(
    s: Session,
    p: CreateParams,
    source: string[],
    o: Pick<RunOptions, "cwd" | "env" | "feed"> & { progress(c: Progress): void },
  ): Promise<Record<string, unknown>> {
    let summary: Record<string, unknown> | undefined;
    const r = await s.run([
      "backup",
      "--host",
      p.host_tag,
      ...p.tags.flatMap((t) => ["--tag", t]),
      ...(p.exclude ?? []).flatMap((e) => ["--exclude", e]),
      ...source,
    ], {
      ...o,
      onJson: (v) => {
        if (v.message_type === "status") o.progress(progressChunk(v));
        else if (v.message_type === "summary") summary = v;
      },
    });
    if (r.code === 3) {
      throw new OpError({
        status: 502,
        code: "restic_failed",
        message: "The snapshot is incomplete: some files of the volume could not be read",
      });
    }
    if (r.code !== 0 || !summary) throw failed("snapshot the volume", r);
    return summary;
  }

  /**
   * The full id of snapshot `short` in the target's repository (restic 0.14 prints short ids).
   * A local repository names each snapshot's file by its id, so a folder listing answers without
   * opening the repository (a key derivation, most of a small backup's time); remote ones ask
   * restic.
   */
  async function fullId(s: Session, short: string): Promise<string> {
    if (s.repository.startsWith("/") && /^[0-9a-f]{8,64}$/.test(short)) {
      try {
        for await (const e of Deno.readDir(join(s.repository, "snapshots"))) {
          if (e.isFile && e.name.startsWith(short)) return e.name;
        }
      } catch {
        // Not readable as a folder: ask restic.
      }
    }
    const listed = await s.run(["snapshots", "--", short], { keep: true });
    return parseJson<{ id: string }[]>(listed.out)?.find((x) => x.id.startsWith(short))?.id ??
      short;
  }

  /** The done chunk of a backup's summary, with the target's id of the snapshot. */
  function doneChunk(summary: Record<string, unknown>, resticId: string): Done {
    const n = (k: string) => Number(summary[k] ?? 0);
    return {
      kind: "done",
      restic_id: resticId,
      files_new: n("files_new"),
      files_changed: n("files_changed"),
      files_unmodified: n("files_unmodified"),
      data_added: n("data_added"),
      total_files_processed: n("total_files_processed"),
      total_bytes_processed: n("total_bytes_processed"),
      duration_s: n("total_duration"),
    };
  }

  async function create(raw: unknown, emit: (c: SnapshotChunk) => void, signal: AbortSignal) {
    const p = SnapshotCreateParams.parse(raw ?? {});
    await requireRestic();
    // A dump does not read the volume (it may even be another host's driver).
    const dir = p.mode === "dump" ? "" : await mountpoint(p.volume);
    const dump = p.dump ? await prepareDump(docker, p.dump) : undefined;
    const progress = throttled(emit);
    await streamed(
      "snapshot",
      p.timeout_s,
      signal,
      emit,
      (stop) =>
        withRepository(p.target, p.password, stop, async (s) => {
          await ensureRepository(s);
          if (p.mode === "stop") {
            await unlock(s);
            return await stopped(s, p, dir, progress, stop);
          }
          const once = () =>
            dump
              ? backup(s, p, ["--stdin", "--stdin-filename", dump.filename], {
                progress,
                feed: (w) => runDump(docker, dump, w, stop),
              })
              : backup(s, p, ["--", "."], { cwd: dir, progress });
          // No `unlock` up front: each costs a repository open (a key derivation), and a backup
          // takes a shared lock that only a killed run's exclusive lock (forget, prune) blocks.
          // Such a lock is removed and the backup tried once more.
          let summary;
          try {
            summary = await once();
          } catch (err) {
            if (stop.aborted || !(err instanceof OpError) || !LOCKED.test(err.message)) throw err;
            await unlock(s);
            summary = await once();
          }
          if (stop.aborted) throw stop.reason;
          return doneChunk(summary, await fullId(s, String(summary.snapshot_id ?? "")));
        }),
    );
  }

  /**
   * `stop` mode: containers down → volume into the local staging repository → containers up
   * (always, whatever happened) → `restic copy` of the staged snapshot to the target.
   */
  async function stopped(
    s: Session,
    p: CreateParams,
    dir: string,
    progress: (c: Progress, force?: boolean) => void,
    stop: AbortSignal,
  ): Promise<Done> {
    return await oneAtATime(join(stagingRoot, await targetIdentity(p.target)), async () => {
      const staging = await stagingRepository(stagingRoot, p.target);
      const env = { RESTIC_REPOSITORY: staging.repo, RESTIC_PASSWORD_FILE: staging.passwordFile };
      if (!(await repositoryExists(staging.repo))) {
        // The target's chunker parameters, so what is copied deduplicates with `live` snapshots.
        const init = await s.run([
          "init",
          "--repository-version",
          "2",
          "--copy-chunker-params",
          "--from-repo",
          s.repository,
          "--from-password-file",
          s.passwordFile,
        ], { env });
        if (init.code !== 0) throw failed("create the staging repository", init);
      }
      await unlock(s, env);

      // Every container is found before any is stopped; only running ones are stopped (and so
      // started again).
      const found = [];
      for (const ref of p.containers ?? []) {
        found.push(await docker.inspectContainer(ref, engine()));
      }
      const down: string[] = [];
      const grace = {
        t: p.stop_timeout_s,
        signal: AbortSignal.timeout((p.stop_timeout_s + 60) * 1000),
      };
      let summary: Record<string, unknown> = {};
      let failure: unknown;
      const stoppedAt = performance.now();
      try {
        for (const c of found.filter((c) => c.State?.Running)) {
          down.push(c.Id);
          await docker.stopContainer(c.Id, grace);
        }
        summary = await backup(s, p, ["--", "."], {
          cwd: dir,
          env,
          progress: (c) => progress({ ...c, phase: "snapshot" }),
        });
      } catch (err) {
        failure = err;
      }
      // Started again whatever happened above (a cancel and the deadline included: these calls
      // have their own time limit, not the run's).
      const notStarted: string[] = [];
      for (const id of down) {
        await docker.startContainer(id, engine()).catch((err) =>
          notStarted.push(`${id.slice(0, 12)} (${err instanceof Error ? err.message : err})`)
        );
      }
      const downtimeMs = Math.round(performance.now() - stoppedAt);
      if (notStarted.length) {
        const why = failure instanceof Error ? `; the snapshot failed too: ${failure.message}` : "";
        throw new OpError({
          status: 502,
          code: "restart_failed",
          message: `Containers did not start again after the snapshot: ${
            notStarted.join(", ")
          }${why}`,
        });
      }
      if (failure !== undefined) throw failure;
      if (stop.aborted) throw stop.reason;

      const staged = String(summary.snapshot_id ?? "");
      const copy = await copyToTarget(s, staging, staged, summary, progress);
      // The staging repository keeps one snapshot per volume (the next one's parent).
      await s.run(["forget", "--keep-last", "1", "--prune"], { env });
      return { ...doneChunk(summary, await fullId(s, copy)), downtime_ms: downtimeMs };
    });
  }

  /** `restic copy` of staged snapshot `staged` to the target: the target's (short) id of it. */
  async function copyToTarget(
    s: Session,
    staging: { repo: string; passwordFile: string },
    staged: string,
    summary: Record<string, unknown>,
    progress: (c: Progress, force?: boolean) => void,
  ): Promise<string> {
    const started = performance.now();
    const bytes = Number(summary.total_bytes_processed ?? 0);
    const files = Number(summary.total_files_processed ?? 0);
    const upload = (fraction: number, force = false) =>
      progress({
        kind: "progress",
        phase: "upload",
        percent_done: fraction,
        // restic 0.14's copy counts packs, not bytes: bytes and files are that share of the total.
        bytes_done: Math.round(bytes * fraction),
        total_bytes: bytes,
        files_done: Math.round(files * fraction),
        total_files: files,
        seconds_elapsed: Math.round((performance.now() - started) / 1000),
      }, force);
    upload(0, true);
    let copied: string | undefined;
    const r = await s.run([
      "copy",
      "--from-repo",
      staging.repo,
      "--from-password-file",
      staging.passwordFile,
      "--",
      staged,
    ], {
      onText: (line) => {
        const packs = /([\d.]+)%\s+\d+ \/ \d+ packs copied/.exec(line);
        if (packs) upload(Math.min(1, Number(packs[1]) / 100));
        const id = /snapshot ([0-9a-f]{8,64}) saved|already copied to snapshot ([0-9a-f]{8,64})/
          .exec(line);
        if (id) copied = id[1] ?? id[2];
      },
    });
    if (r.code !== 0 || !copied) throw failed("copy the snapshot to the target", r);
    return copied;
  }

  async function restore(raw: unknown, emit: (c: SnapshotChunk) => void, signal: AbortSignal) {
    const p = SnapshotRestoreParams.parse(raw ?? {});
    await requireRestic();
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

  return { calls, create, restore, version };
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

/** Whether `path` exists. */
async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
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
async function runRestic(
  o: RunOptions & {
    bin: string;
    args: string[];
    env: Record<string, string>;
    stop: AbortSignal;
    scrub: (line: string) => string;
  },
): Promise<ResticResult & { out: string[] }> {
  if (o.stop.aborted) throw o.stop.reason;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(o.bin, {
      args: o.args,
      cwd: o.cwd,
      clearEnv: true,
      env: o.env,
      stdin: o.feed ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && !(o.cwd && !(await exists(o.cwd)))) {
      throw resticMissing(null);
    }
    throw err;
  }
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
      if (!line.startsWith("{")) {
        note(line);
        o.onText?.(o.scrub(line));
      }
    }),
    { signal: letGo.signal },
  ).catch(() => {});
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    lineSink(note),
    { signal: letGo.signal },
  ).catch(() => {});
  // Stdin closes only after a feed that went well; a failed one kills restic first, and its
  // pipe is let go only once restic is gone, so restic never reads an end and saves a snapshot.
  let fed: { failed: unknown } | undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  const feeding = o.feed
    ? (async () => {
      writer = child.stdin.getWriter();
      try {
        await o.feed!(writer);
      } catch (err) {
        fed = { failed: err };
        kill();
        return;
      }
      await writer.close().catch(() => {});
    })()
    : Promise.resolve();
  try {
    const [status] = await Promise.all([child.status, stdout, stderr]);
    await Promise.race([feeding, new Promise((r) => setTimeout(r, KILL_GRACE_MS))]);
    await writer?.abort().catch(() => {});
    if (o.stop.aborted) throw o.stop.reason;
    // The feed's own failure explains more than restic's, unless restic failed on its own (its
    // stdin then broke under the feed).
    if (fed && (status.code === 0 || status.signal !== null || fed.failed instanceof OpError)) {
      throw fed.failed;
    }
    return { code: status.code, tail, out };
  } finally {
    o.stop.removeEventListener("abort", kill);
    clearTimeout(grace);
  }
}
