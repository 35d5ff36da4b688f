/**
 * The clone step of a build: fetches one commit of a Git repository into an empty folder on the
 * builder, with the app's credentials, bounded in time and in size.
 *
 * `git` runs as an argv array with an environment cleared down to a short allowlist (so the
 * agent's own variables, proxies, askpass programs and SSH agents play no part) and a throwaway
 * HOME (so no user or system Git configuration applies). Secrets never reach argv, the URL or a
 * logged line:
 *
 * - A token is handed over by GIT_ASKPASS: a fixed script in a private temporary folder (0700)
 *   that prints the user name from an environment variable and the token from a 0600 file. Git
 *   runs the askpass program directly (no shell), and the script's text holds no data at all.
 *   `-c http.extraHeader=…` would put the token in argv (visible in `ps`), so it is not used.
 * - A deploy key is written to a 0600 file beside an ssh_config that names it. GIT_SSH_COMMAND and
 *   core.sshCommand are shell strings that git hands to `sh -c`; GIT_SSH is the one setting git
 *   runs without a shell. It points to a fixed wrapper script that execs
 *   `ssh -F "$CAPSTAN_SSH_CONFIG" "$@"`: git's arguments arrive as "$@" and the config path as a
 *   variable, so no value is ever parsed as shell text. `-F` matters: ssh reads ~/.ssh/config from
 *   the account's home directory (not $HOME), which would bring in the builder's own keys.
 *
 * Everything git prints on stderr goes to `onLog` after scrubbing the token (and its base64 and
 * URL-encoded forms). The temporary folder is removed whatever happens; `into` is the caller's and
 * is left as it is (the caller removes it with the rest of the build's folder).
 */
import { join } from "../path.ts";
import { BuildFailure } from "../../lib/builds/failure.ts";
import {
  BranchName,
  CommitSha,
  GitAuth,
  type GitTransport,
  gitTransport,
  gitUrlSchema,
} from "../../lib/builds/source.ts";
import { hostKeyFingerprintOf } from "../../lib/builds/host_key.ts";

/** What to clone, where, with which credentials and within which bounds. */
export interface CloneOptions {
  /** The repository URL (checked again here with the rules of `gitUrlSchema`). */
  url: string;
  branch: string;
  /**
   * An exact commit to check out instead of the branch's head. Fetched by id where the server
   * allows it (then any commit the server has is taken); otherwise looked for in the branch's
   * history, and a commit not on the branch fails clone_failed.
   */
  commit?: string;
  auth?: GitAuth;
  /** An existing empty folder the checkout goes into. */
  into: string;
  /** For the whole clone: past it the processes are killed and the clone fails "timeout". */
  timeoutMs: number;
  /** Working tree plus .git; watched during the clone, so a huge repository stops early. */
  maxCheckoutBytes: number;
  /** Aborting kills the processes and the clone fails "cancelled". */
  signal: AbortSignal;
  /** Receives progress lines and git's messages, secrets scrubbed. */
  onLog: (line: string) => void;
  gitBin?: string;
  /** Where the private folder for credentials is made (default: the system's temporary folder). */
  tempDir?: string;
}

/** The commit that was checked out, and the SSH host key recorded on first use. */
export interface ClonedSource {
  commit: string;
  /** "Name <email>" of the commit's author. */
  author: string;
  /** The commit message, at most 4000 characters. */
  message: string;
  /** On first SSH use (no known_hosts given): the host key now pinned, for the hub to store. */
  knownHost?: { line: string; fingerprint: string };
}

const MAX_MESSAGE = 4000;
const MAX_LINE = 2000;
const MAX_LINES_PER_COMMAND = 2000;
const MAX_STDOUT = 1 << 20;
const SIZE_POLL_MS = 500;
// After a kill, how long the pipes may stay open (held by a process that escaped the group).
const KILL_GRACE_MS = 5_000;
// Used when a token comes without a user name: GitHub, GitLab and Gitea accept any user name with
// a token, and Bitbucket's "x-token-auth" or an explicit name can be set in the form.
const DEFAULT_TOKEN_USER = "x-access-token";
// The temporary folder's path goes into ssh_config (quoted) and a script's variable: only plain
// characters, so quoting there can never be broken by the path.
export const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

const ASKPASS_SCRIPT = `#!/bin/sh
# Written by Capstan's agent for one clone. Git runs it (no shell in between) with its prompt as
# the only argument; the answers come from the environment and a 0600 file, never from argv.
case "$1" in
  Username*) printf '%s\\n' "$CAPSTAN_GIT_USERNAME" ;;
  *) exec cat -- "$CAPSTAN_GIT_TOKEN_FILE" ;;
esac
`;

const SSH_WRAPPER = `#!/bin/sh
# Written by Capstan's agent for one clone. Git runs it as GIT_SSH (no shell in between) with the
# host and the remote command as arguments; every ssh option is in the config file.
exec ssh -F "$CAPSTAN_SSH_CONFIG" "$@"
`;

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A function that removes every form of the secrets from a line. */
export function secretScrubber(secrets: string[], username?: string): (line: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(utf8(s).toBase64({ omitPadding: true }));
    forms.add(utf8(s).toBase64({ alphabet: "base64url", omitPadding: true }));
    if (username !== undefined) forms.add(utf8(`${username}:${s}`).toBase64({ omitPadding: true }));
  }
  // Longest first, so a form that contains another is replaced whole.
  const list = [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const f of list) out = out.split(f).join("[secret]");
    return out;
  };
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/** The bytes under `dir` (files and links themselves, not followed); stops counting past `max`. */
export async function treeSize(dir: string, max = Infinity): Promise<number> {
  let total = 0;
  const todo = [dir];
  while (todo.length && total <= max) {
    const d = todo.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      continue; // removed while git was working (temporary packs move): counted next time
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory) todo.push(path);
      else {
        const st = await Deno.lstat(path).catch(() => null);
        total += st?.size ?? 0;
      }
    }
  }
  return total;
}

/** Resolves after `ms`, or early when the signal fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Checks the options with the shared schemas; a bad value is the user's to fix. */
function checkOptions(opts: CloneOptions): GitTransport {
  const url = gitUrlSchema({ allowLocal: true }).safeParse(opts.url);
  const branch = BranchName.safeParse(opts.branch);
  const commit = opts.commit === undefined ? null : CommitSha.safeParse(opts.commit);
  const auth = opts.auth === undefined ? null : GitAuth.safeParse(opts.auth);
  for (const r of [url, branch, commit, auth]) {
    if (r && !r.success) {
      throw new BuildFailure("clone_failed", `Cannot clone: ${r.error.issues[0].message}`);
    }
  }
  const transport = gitTransport(opts.url);
  if (opts.auth?.kind === "token" && transport !== "http") {
    throw new BuildFailure(
      "clone_failed",
      "Cannot clone: an access token works only with an https:// or http:// URL",
    );
  }
  if (opts.auth?.kind === "ssh" && transport !== "ssh") {
    throw new BuildFailure(
      "clone_failed",
      "Cannot clone: a deploy key works only with an ssh:// or user@host:path URL",
    );
  }
  return transport;
}

/** Writes a file only we can read (created here: an existing file is an error, not reused). */
export async function writePrivate(path: string, content: string, mode = 0o600): Promise<void> {
  await Deno.writeTextFile(path, content, { createNew: true, mode });
  await Deno.chmod(path, mode); // the umask could only have removed bits; set them exactly
}

/**
 * The ssh options of one connection: the key (`tmp/id`) or a password (asked of SSH_ASKPASS, which
 * the caller sets), the pinned or to-be-pinned host key, nothing else.
 */
export function sshConfig(
  tmp: string,
  pinned: boolean,
  auth: "publickey" | "password" = "publickey",
): string {
  const credentials = auth === "publickey"
    ? [
      `  IdentityFile "${join(tmp, "id")}"`,
      "  IdentitiesOnly yes",
      "  BatchMode yes",
      "  PreferredAuthentications publickey",
      "  PasswordAuthentication no",
      "  KbdInteractiveAuthentication no",
    ]
    : [
      // No key at all (IdentitiesOnly with none named); BatchMode would forbid asking askpass.
      "  IdentitiesOnly yes",
      "  PubkeyAuthentication no",
      "  BatchMode no",
      "  PreferredAuthentications password,keyboard-interactive",
      "  PasswordAuthentication yes",
      "  KbdInteractiveAuthentication yes",
      "  NumberOfPasswordPrompts 1",
    ];
  return [
    "Host *",
    ...credentials,
    "  IdentityAgent none",
    `  UserKnownHostsFile "${join(tmp, "known_hosts")}"`,
    "  GlobalKnownHostsFile /dev/null",
    // First use records the host's key (returned for the hub to pin); later uses accept only it.
    `  StrictHostKeyChecking ${pinned ? "yes" : "accept-new"}`,
    "  HashKnownHosts no",
    "  UpdateHostKeys no",
    "  CheckHostIP no",
    "  ForwardAgent no",
    "  ForwardX11 no",
    "  ClearAllForwardings yes",
    "  PermitLocalCommand no",
    "  ProxyCommand none",
    "  ProxyJump none",
    "  ControlMaster no",
    "  ControlPath none",
    "  ConnectTimeout 30",
    "  ServerAliveInterval 15",
    "  ServerAliveCountMax 4",
    "  LogLevel ERROR",
    "",
  ].join("\n");
}

/** Writes the credentials of `auth` into `tmp` and returns the environment that uses them. */
async function prepareAuth(
  tmp: string,
  auth: GitAuth | undefined,
  transport: GitTransport,
): Promise<Record<string, string>> {
  if (auth?.kind === "token") {
    await writePrivate(join(tmp, "token"), auth.token);
    await writePrivate(join(tmp, "askpass"), ASKPASS_SCRIPT, 0o700);
    return {
      GIT_ASKPASS: join(tmp, "askpass"),
      CAPSTAN_GIT_USERNAME: auth.username ?? DEFAULT_TOKEN_USER,
      CAPSTAN_GIT_TOKEN_FILE: join(tmp, "token"),
    };
  }
  if (transport !== "ssh") return {};
  // ssh even without a key (a public repository over SSH still has a host key to check).
  if (auth?.kind === "ssh") {
    const key = auth.private_key.replace(/\r\n/g, "\n");
    await writePrivate(join(tmp, "id"), key.endsWith("\n") ? key : `${key}\n`);
  }
  const pinned = auth?.kind === "ssh" && auth.known_hosts !== undefined &&
    auth.known_hosts.trim() !== "";
  await writePrivate(
    join(tmp, "known_hosts"),
    pinned ? `${auth.known_hosts!.replace(/\r\n/g, "\n").trim()}\n` : "",
  );
  await writePrivate(join(tmp, "ssh_config"), sshConfig(tmp, pinned));
  await writePrivate(join(tmp, "ssh"), SSH_WRAPPER, 0o700);
  return {
    GIT_SSH: join(tmp, "ssh"),
    GIT_SSH_VARIANT: "ssh",
    CAPSTAN_SSH_CONFIG: join(tmp, "ssh_config"),
  };
}

/** Git's settings for every command: only this URL's transport, no redirects, no helpers. */
function gitConfigArgs(transport: GitTransport): string[] {
  const allowed = transport === "http" ? ["http", "https"] : transport === "ssh" ? ["ssh"] : [
    "file",
  ];
  const settings = [
    "protocol.allow=never",
    ...allowed.map((p) => `protocol.${p}.allow=always`),
    // A redirect could carry the token to another host: the URL must name the real one.
    "http.followRedirects=false",
    "credential.helper=",
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "submodule.recurse=false",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
  ];
  return settings.flatMap((s) => ["-c", s]);
}

/** One git command to run: argv, folder, environment, and what stops it. */
interface GitRun {
  bin: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Kills the command's whole process group; its reason is thrown. */
  stop: AbortSignal;
  scrub: (line: string) => string;
  onLog: (line: string) => void;
}

/** Splits a text stream into lines, handing each (scrubbed, capped) to `take`. */
export function lineSink(take: (line: string) => void): WritableStream<string> {
  let rest = "";
  return new WritableStream({
    write(chunk) {
      const parts = (rest + chunk).split(/\r?\n|\r/);
      rest = (parts.pop() ?? "").slice(0, MAX_LINE);
      for (const p of parts) if (p.trim()) take(p);
    },
    close() {
      if (rest.trim()) take(rest);
    },
  });
}

/** Collects a byte stream up to `max` bytes (the rest is read and dropped). */
function byteSink(max: number): { sink: WritableStream<Uint8Array>; text(): string } {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  return {
    sink: new WritableStream({
      write(chunk) {
        const take = Math.min(chunk.length, max - kept);
        if (take > 0) chunks.push(chunk.subarray(0, take));
        kept += take;
      },
    }),
    text: () => {
      const all = new Uint8Array(kept);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return new TextDecoder().decode(all);
    },
  };
}

/**
 * Runs one git command: stderr lines (scrubbed) go to the log, stdout is kept (up to 1 MiB).
 * git runs in its own process group so that a stop kills git-remote-https, ssh and index-pack
 * with it; and should anything outlive the kill holding a pipe, the pipes are let go after a
 * grace period, so a stop always returns.
 */
async function runGit(run: GitRun): Promise<GitResult> {
  if (run.stop.aborted) throw run.stop.reason;
  const child = new Deno.Command(run.bin, {
    args: run.args,
    cwd: run.cwd,
    clearEnv: true,
    env: run.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const release = new AbortController();
  let grace: ReturnType<typeof setTimeout> | undefined;
  const kill = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* already gone */ }
    grace = setTimeout(() => release.abort(), KILL_GRACE_MS);
  };
  run.stop.addEventListener("abort", kill, { once: true });
  const tail: string[] = [];
  let lines = 0;
  const readErr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    lineSink((raw) => {
      const line = run.scrub(raw).slice(0, MAX_LINE);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (++lines <= MAX_LINES_PER_COMMAND) run.onLog(line);
    }),
    { signal: release.signal },
  ).catch(() => {});
  const stdout = byteSink(MAX_STDOUT);
  const readOut = child.stdout.pipeTo(stdout.sink, { signal: release.signal }).catch(() => {});
  try {
    const [status] = await Promise.all([child.status, readErr, readOut]);
    if (run.stop.aborted) throw run.stop.reason;
    return { ok: status.success, stdout: stdout.text(), tail };
  } finally {
    run.stop.removeEventListener("abort", kill);
    clearTimeout(grace);
  }
}

interface GitResult {
  ok: boolean;
  stdout: string;
  /** The last lines of stderr, scrubbed. */
  tail: string[];
}

/** Patterns of git's and ssh's messages that mean the credentials were refused. */
const AUTH_FAILURES: [RegExp, string][] = [
  [
    /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
    "host key changed: the SSH server's key is not the one pinned on first use. If the server was reinstalled, clear the pinned host key; otherwise someone may be in the middle",
  ],
  [
    /Host key verification failed/i,
    "host key verification failed: the SSH server's key is not in the pinned known_hosts",
  ],
  [/Permission denied \(publickey/i, "the Git host refused the deploy key (Permission denied)"],
  [
    /could not read (?:Username|Password)|terminal prompts disabled/i,
    "the repository needs credentials (an access token or a deploy key)",
  ],
  [
    /Authentication failed|returned error: 401|HTTP 401|Invalid username or password|invalid credentials/i,
    "authentication failed: the Git host refused the access token",
  ],
  [/returned error: 403|HTTP 403|access denied/i, "access denied (HTTP 403)"],
];

/** A commit asked for by id that the server will not serve directly (not advertised). */
const UNADVERTISED = /unadvertised object|not our ref|couldn't find remote ref|no such remote ref/i;

/** The failure a failed git command means: clone_auth when credentials were refused. */
function failureOf(r: GitResult, url: string, branch: string): BuildFailure {
  const text = r.tail.join("\n");
  const last = r.tail.filter((l) => /fatal|error/i.test(l)).at(-1) ?? r.tail.at(-1) ?? "";
  const detail = last ? ` (${last.slice(0, 300)})` : "";
  for (const [re, why] of AUTH_FAILURES) {
    if (re.test(text)) return new BuildFailure("clone_auth", `Cannot clone ${url}: ${why}`);
  }
  const failed: [RegExp, string][] = [
    [/Remote branch .* not found|couldn't find remote ref/i, `branch "${branch}" not found`],
    [
      /repository .*not found|does not appear to be a git repository|returned error: 404|Repository not found/i,
      "repository not found",
    ],
    [/Could not resolve host|Name or service not known|resolve hostname/i, "unknown host"],
    [
      /Connection refused|Failed to connect|timed out|No route to host|Network is unreachable/i,
      "cannot connect to the Git host",
    ],
    [/SSL certificate|certificate verif/i, "the Git host's TLS certificate is not trusted"],
  ];
  for (const [re, why] of failed) {
    if (re.test(text)) {
      return new BuildFailure("clone_failed", `Cannot clone ${url}: ${why}${detail}`);
    }
  }
  return new BuildFailure("clone_failed", `Cannot clone ${url}: git failed${detail}`);
}

/**
 * Clones `opts.url` at `opts.branch` (or the exact `opts.commit`) into `opts.into` and returns the
 * commit checked out. Throws `BuildFailure` with class clone_auth, clone_failed,
 * checkout_too_large, timeout or cancelled.
 */
export async function cloneSource(opts: CloneOptions): Promise<ClonedSource> {
  const transport = checkOptions(opts);
  for await (const _ of Deno.readDir(opts.into)) {
    throw new Error(`Cannot clone into ${opts.into}: the folder is not empty`);
  }
  const gitBin = opts.gitBin ?? "git";
  const token = opts.auth?.kind === "token" ? opts.auth.token : undefined;
  const scrub = secretScrubber(
    token ? [token] : [],
    opts.auth?.kind === "token" ? opts.auth.username ?? DEFAULT_TOKEN_USER : undefined,
  );
  const log = (line: string) => opts.onLog(scrub(line).slice(0, MAX_LINE));
  // The private folder for credentials (and git's HOME); made first, removed last.
  const tmp = await Deno.makeTempDir({ dir: opts.tempDir, prefix: "capstan-clone-creds-" });

  // One controller stops everything: the deadline, the caller's abort, or the size watch.
  const stop = new AbortController();
  const timer = setTimeout(
    () =>
      stop.abort(
        new BuildFailure(
          "timeout",
          `Cloning took longer than ${Math.round(opts.timeoutMs / 1000)} s`,
        ),
      ),
    opts.timeoutMs,
  );
  const cancel = () =>
    stop.abort(new BuildFailure("cancelled", "The build was cancelled while cloning"));
  if (opts.signal.aborted) cancel();
  else opts.signal.addEventListener("abort", cancel, { once: true });
  const tooLarge = (size: number) =>
    new BuildFailure(
      "checkout_too_large",
      `The checkout is larger than the limit of ${formatBytes(opts.maxCheckoutBytes)} (at least ${
        formatBytes(size)
      })`,
    );
  const watching = new AbortController();
  const watch = (async () => {
    const either = AbortSignal.any([stop.signal, watching.signal]);
    while (!either.aborted) {
      await pause(SIZE_POLL_MS, either);
      if (either.aborted) return;
      const size = await treeSize(opts.into, opts.maxCheckoutBytes);
      if (size > opts.maxCheckoutBytes) stop.abort(tooLarge(size));
    }
  })();

  try {
    if (!SAFE_PATH.test(tmp)) throw new Error(`unexpected temporary folder name ${tmp}`);
    await Deno.chmod(tmp, 0o700);
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: tmp,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      LANG: "C",
      ...await prepareAuth(tmp, opts.auth, transport),
    };
    const config = gitConfigArgs(transport);

    const git: Git = (args, cwd) =>
      runGit({
        bin: gitBin,
        args: [...config, ...args],
        cwd,
        env,
        stop: stop.signal,
        scrub,
        onLog: opts.onLog,
      });
    const must = async (args: string[], cwd?: string) => {
      const r = await git(args, cwd);
      if (!r.ok) throw failureOf(r, opts.url, opts.branch);
      return r;
    };

    // A local path is cloned through upload-pack like a remote (`--no-local`), so --depth holds.
    const local = transport === "local" ? ["--no-local"] : [];
    if (opts.commit === undefined) {
      log(`Cloning ${opts.url} (branch ${opts.branch})`);
      await must([
        "clone",
        "--depth",
        "1",
        "--branch",
        opts.branch,
        "--single-branch",
        "--no-tags",
        ...local,
        "--",
        opts.url,
        opts.into,
      ]);
    } else {
      const sha = opts.commit.toLowerCase();
      log(`Fetching commit ${sha} of ${opts.url} (branch ${opts.branch})`);
      await must(["init", "-q", opts.into]);
      await fetchCommit(git, must, sha, opts, log);
      await must(["checkout", "-q", "--detach", sha], opts.into);
    }

    watching.abort();
    await watch;
    const size = await treeSize(opts.into, opts.maxCheckoutBytes);
    if (size > opts.maxCheckoutBytes) throw tooLarge(size);
    if (stop.signal.aborted) throw stop.signal.reason;

    const shown = await must(["log", "-1", "--format=%H%x00%an <%ae>%x00%B"], opts.into);
    const [commit, author, ...rest] = shown.stdout.split("\0");
    const message = rest.join("\0").replace(/\s+$/, "").slice(0, MAX_MESSAGE);
    if (opts.commit !== undefined && commit !== opts.commit.toLowerCase()) {
      throw new BuildFailure(
        "clone_failed",
        `Cannot clone ${opts.url}: checked out ${commit}, not ${opts.commit}`,
      );
    }
    log(`Checked out ${commit}`);
    const knownHost = await recordedHostKey(tmp, opts.auth, transport);
    if (knownHost) log(`Pinned the SSH host key ${knownHost.fingerprint}`);
    const shownAuthor = scrub(author ?? "").slice(0, 512);
    return {
      commit,
      author: shownAuthor,
      message: scrub(message),
      ...(knownHost ? { knownHost } : {}),
    };
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener("abort", cancel);
    watching.abort();
    await watch;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

type Git = (args: string[], cwd?: string) => Promise<GitResult>;

/**
 * Fetches one commit by id. Servers speaking protocol v2 (and v0 ones with
 * uploadpack.allowReachableSHA1InWant or allowAnySHA1InWant, as GitHub and GitLab have) serve it
 * directly; a server that serves only what it advertises refuses, and then the branch is fetched
 * deeper (50 commits, then its whole history) until the commit is there.
 */
async function fetchCommit(
  git: Git,
  must: Git,
  sha: string,
  opts: CloneOptions,
  log: (line: string) => void,
): Promise<void> {
  const dir = opts.into;
  const direct = await git(["fetch", "--depth", "1", "--no-tags", "--", opts.url, sha], dir);
  if (direct.ok) return;
  const failure = failureOf(direct, opts.url, opts.branch);
  if (failure.failure === "clone_auth" || !UNADVERTISED.test(direct.tail.join("\n"))) {
    throw failure;
  }
  log("The server does not serve commits by id; fetching the branch's history to find it");
  const ref = `+refs/heads/${opts.branch}:refs/remotes/origin/${opts.branch}`;
  const has = async () => (await git(["cat-file", "-e", `${sha}^{commit}`], dir)).ok;
  await must(["fetch", "--depth", "50", "--no-tags", "--", opts.url, ref], dir);
  if (await has()) return;
  const shallow = (await must(["rev-parse", "--is-shallow-repository"], dir)).stdout.trim();
  if (shallow === "true") {
    await must(["fetch", "--unshallow", "--no-tags", "--", opts.url, ref], dir);
    if (await has()) return;
  }
  throw new BuildFailure(
    "clone_failed",
    `Cannot clone ${opts.url}: commit ${sha} is not on branch "${opts.branch}"`,
  );
}

/** On first SSH use, the host key line ssh recorded (for the hub to pin), with its fingerprint. */
async function recordedHostKey(
  tmp: string,
  auth: GitAuth | undefined,
  transport: GitTransport,
): Promise<{ line: string; fingerprint: string } | undefined> {
  if (transport !== "ssh" || (auth?.kind === "ssh" && auth.known_hosts?.trim())) return undefined;
  const text = await Deno.readTextFile(join(tmp, "known_hosts")).catch(() => "");
  const line = text.split("\n").map((l) => l.trim()).find((l) => l && !l.startsWith("#"));
  if (!line) return undefined;
  return { line, fingerprint: await hostKeyFingerprintOf(line) };
}
