/**
 * Builds a Nix expression on a worker and packs its output into an image.
 *
 * `default.nix` is built with `nix-build`, `flake.nix` with `nix build`; both as argument arrays,
 * with no substituter unless the operator named a cache (`CAPSTAN_NIX_CACHE_URL`), so a build never
 * reaches the internet for binaries on its own. The output's runtime closure (`nix-store -qR`)
 * goes into a `FROM scratch` image under `/nix/store`, with the program as the entrypoint. The
 * worker's `/nix/store` is the package cache between builds: nothing here deletes from it.
 */

import type { DockerClient } from "../../lib/docker/client.ts";
import { imageRef } from "../../lib/docker/validate.ts";
import { BuildFailure } from "../../lib/builds/failure.ts";
import { type TarEntry, tarStream } from "./tar.ts";

/** What `buildNix` needs. */
export interface NixBuildOptions {
  /** The checkout holding `flake.nix` or `default.nix`. */
  dir: string;
  /** The attribute to build (`-A attr` / `dir#attr`); absent: the file's default. */
  attr?: string;
  /** The image reference to tag the result with. */
  tag: string;
  /** The image's entrypoint (exec form); absent: the output's only program in `bin/`. */
  entrypoint?: string[];
  docker: DockerClient;
  /** An extra binary cache to substitute from (CAPSTAN_NIX_CACHE_URL); absent: none. */
  cacheUrl?: string;
  /** Labels for the image. */
  labels?: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Each line of Nix's and the engine's output, as it comes. */
  onLog(line: string): void;
}

/** The built image and what went into it. */
export interface NixBuildResult {
  imageId: string;
  /** The built output, `/nix/store/<hash>-<name>`. */
  storePath: string;
  /** Every store path in the image (the output's runtime closure), sorted. */
  closure: string[];
}

const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]{1,211}$/;
const ATTR = /^[A-Za-z_][A-Za-z0-9_'.-]{0,199}$/;
const MAX_LINE = 16 * 1024;
const TAIL_LINES = 40;
const KILL_GRACE_MS = 5_000;

/** Builds the expression in `opts.dir` and packs it into the image `opts.tag`. */
export async function buildNix(opts: NixBuildOptions): Promise<NixBuildResult> {
  if (opts.attr !== undefined && !ATTR.test(opts.attr)) {
    throw new BuildFailure("nix_failed", `"${opts.attr}" is not a Nix attribute path`);
  }
  imageRef(opts.tag);
  if (opts.cacheUrl !== undefined && !/^https?:\/\/[^\s"']{1,2000}$/.test(opts.cacheUrl)) {
    // Nix reads substituters as a space-separated list: a space would smuggle in another one.
    throw new BuildFailure("nix_failed", "The Nix cache URL must be one http(s) URL");
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const fail = (): never => {
    if (opts.signal.aborted) throw new BuildFailure("cancelled", "The build was cancelled");
    throw new BuildFailure("timeout", `The build took longer than ${opts.timeoutMs} ms`);
  };
  const hasFlake = await exists(`${opts.dir}/flake.nix`);
  if (!hasFlake && !await exists(`${opts.dir}/default.nix`)) {
    throw new BuildFailure("no_build_plan", "Neither flake.nix nor default.nix is in the checkout");
  }
  const common = [
    "--option",
    "sandbox",
    "false",
    "--option",
    "substituters",
    opts.cacheUrl ?? "",
  ];
  const { stdout, tail } = hasFlake
    ? await runNix(
      "nix",
      [
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--no-link",
        "--json",
        "--no-write-lock-file",
        "--print-build-logs",
        ...common,
        `${opts.dir}#${opts.attr ?? "default"}`,
      ],
      opts.onLog,
      signal,
    )
    : await runNix(
      "nix-build",
      [
        "--no-out-link",
        ...common,
        ...(opts.attr ? ["-A", opts.attr] : []),
        `${opts.dir}/default.nix`,
      ],
      opts.onLog,
      signal,
    );
  if (signal.aborted) fail();
  if (stdout === undefined) throw new BuildFailure("nix_failed", tail.join("\n"));
  const storePath = hasFlake ? flakeOut(stdout) : stdout.split("\n").map((l) => l.trim())[0];
  if (!storePath || !STORE_PATH.test(storePath)) {
    throw new BuildFailure(
      "nix_failed",
      `Nix printed no store path (got "${stdout.slice(0, 200)}")`,
    );
  }
  const q = await runNix("nix-store", ["-qR", storePath], () => {}, signal);
  if (signal.aborted) fail();
  if (q.stdout === undefined) throw new BuildFailure("nix_failed", q.tail.join("\n"));
  const closure = q.stdout.split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const bad = closure.find((p) => !STORE_PATH.test(p));
  if (bad) throw new BuildFailure("nix_failed", `nix-store listed "${bad}", not a store path`);
  const entrypoint = opts.entrypoint ?? await defaultEntrypoint(storePath);
  opts.onLog(`Packing ${closure.length} store paths into ${opts.tag}`);
  try {
    const imageId = await buildImage(opts, closure, entrypoint, storePath, signal);
    return { imageId, storePath, closure };
  } catch (err) {
    if (signal.aborted) fail();
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The `out` path from `nix build --json`. */
function flakeOut(stdout: string): string | undefined {
  try {
    const built = JSON.parse(stdout) as { outputs?: Record<string, string> }[];
    const outputs = built[0]?.outputs ?? {};
    return outputs.out ?? Object.values(outputs)[0];
  } catch {
    return undefined;
  }
}

/** `<out>/bin/<name>` when the output has exactly one program; anything else needs to be told. */
async function defaultEntrypoint(out: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${out}/bin`)) names.push(e.name);
  } catch {
    // no bin directory: reported below
  }
  if (names.length === 1) return [`${out}/bin/${names[0]}`];
  throw new BuildFailure(
    "nix_failed",
    names.length === 0
      ? `${out} has no bin/ program to start; set the entrypoint`
      : `${out}/bin holds ${names.length} programs (${
        names.sort().slice(0, 5).join(", ")
      }); set the entrypoint`,
  );
}

/** The environment Nix runs with: what it needs, not the agent's (which may carry secrets). */
function nixEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (["PATH", "HOME", "TMPDIR", "LANG", "USER"].includes(k) || k.startsWith("NIX_")) env[k] = v;
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  env.HOME ??= "/root";
  return env;
}

/**
 * Runs a Nix command in a process group of its own, handing stderr lines to `onLog`. Answers its
 * stdout (bounded) when it succeeds, undefined when it fails, and the last lines either way. An
 * abort sends SIGTERM to the group (Nix stops its builder) and SIGKILL after a grace period.
 */
async function runNix(
  bin: string,
  args: string[],
  onLog: (line: string) => void,
  signal: AbortSignal,
): Promise<{ stdout?: string; tail: string[] }> {
  const tail: string[] = [];
  if (signal.aborted) return { tail };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(bin, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: nixEnv(),
      detached: true,
    }).spawn();
  } catch (err) {
    throw new BuildFailure(
      "nix_failed",
      `Cannot run ${bin} (is Nix installed on this worker?): ${(err as Error).message}`,
    );
  }
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const kill = (sig: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const onAbort = () => {
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const log = (line: string) => {
    const l = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    onLog(l);
  };
  try {
    const [out, , status] = await Promise.all([
      readBounded(child.stdout, 1024 * 1024),
      eachLine(child.stderr, log),
      child.status,
    ]);
    return { stdout: status.success ? out : undefined, tail };
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}

async function readBounded(
  s: ReadableStream<Uint8Array<ArrayBuffer>>,
  max: number,
): Promise<string> {
  let text = "";
  for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
    if (text.length < max) text += chunk.slice(0, max - text.length);
  }
  return text;
}

async function eachLine(
  s: ReadableStream<Uint8Array<ArrayBuffer>>,
  onLine: (line: string) => void,
) {
  let rest = "";
  for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split(/\r?\n|\r/);
    rest = parts.pop() ?? "";
    // One endless line must not grow without limit: pass it on in pieces.
    while (rest.length > MAX_LINE) {
      onLine(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
    for (const p of parts) onLine(p);
  }
  if (rest) onLine(rest);
}

/** The closure's files, each path as it sits under `nix/store/` in the build context. */
async function* closureEntries(closure: string[]): AsyncGenerator<TarEntry> {
  yield { type: "dir", name: "nix", mode: 0o755 };
  yield { type: "dir", name: "nix/store", mode: 0o755 };
  for (const path of closure) yield* walk(path);
}

async function* walk(path: string): AsyncGenerator<TarEntry> {
  const st = await Deno.lstat(path);
  const name = path.slice(1);
  const mode = st.mode ?? 0o444;
  if (st.isSymlink) {
    yield { type: "symlink", name, target: await Deno.readLink(path) };
  } else if (st.isDirectory) {
    yield { type: "dir", name, mode };
    const children: string[] = [];
    for await (const e of Deno.readDir(path)) children.push(e.name);
    for (const c of children.sort()) yield* walk(`${path}/${c}`);
  } else if (st.isFile) {
    yield { type: "file", name, mode, size: st.size, path };
  }
}

/** Builds `FROM scratch` + the closure + the entrypoint through the engine's `/build`. */
async function buildImage(
  opts: NixBuildOptions,
  closure: string[],
  entrypoint: string[],
  storePath: string,
  signal: AbortSignal,
): Promise<string> {
  const dockerfile = [
    "FROM scratch",
    "COPY nix /nix",
    `LABEL capstan.nix.store_path=${JSON.stringify(storePath)}`,
    `ENTRYPOINT ${JSON.stringify(entrypoint)}`,
    "",
  ].join("\n");
  async function* entries(): AsyncGenerator<TarEntry> {
    yield {
      type: "bytes",
      name: "Dockerfile",
      mode: 0o644,
      data: new TextEncoder().encode(dockerfile),
    };
    yield* closureEntries(closure);
  }
  const { imageId } = await opts.docker.buildImage(ReadableStream.from(tarStream(entries())), {
    tag: opts.tag,
    labels: opts.labels,
    signal,
    onLog: opts.onLog,
  });
  return imageId;
}
