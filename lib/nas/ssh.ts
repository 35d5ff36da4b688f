/**
 * Reads a NAS's backup folders over SSH, read-only: one `ssh` run (argv array, environment cleared
 * to an allowlist) whose remote command is a fixed text with the validated backup root quoted in
 * it, and which lists the root's entries down to three levels (each site, then two levels inside
 * it) with their modification times, bounded by `head` on the NAS and by a byte cap here.
 *
 * Why `ssh … find -printf` rather than `sftp -b` with `ls -l`: one round trip reads every site
 * whatever their number (an sftp batch must name each folder before it is known, so a depth of two
 * takes three batches); `%T@` is the exact time in seconds since the epoch, where `ls -l` prints
 * minutes in the client's time zone without a year for recent files; and names arrive NUL-separated,
 * so no name (spaces, newlines) can be misread. The cost: the account needs a shell and GNU find
 * (Synology, QNAP with Entware, TrueNAS and any Linux box have them); a NAS without `-printf` is
 * told as such. The remote command is handed to the account's shell, so the backup root is
 * checked against a plain charset (BackupRoot) and single-quoted, and nothing else in the command
 * comes from input.
 *
 * Options live in a generated ssh_config (agent/build/git.ts's `sshConfig`) in a private 0700
 * folder removed after the run: the key as a 0600 file, or the password in a 0600 file that a
 * fixed 0700 SSH_ASKPASS script prints (SSH_ASKPASS_REQUIRE=force), so no secret is ever in argv
 * or the environment (both visible in `ps`). sshpass is not used: it is one more package on the
 * hub's host for what OpenSSH (≥ 8.4) does itself. The host key is pinned on first use
 * (StrictHostKeyChecking accept-new, the key seen is returned) and required afterwards.
 */
import { join } from "node:path";
import { z } from "zod";
import { SAFE_PATH, secretScrubber, sshConfig, writePrivate } from "../../agent/build/git.ts";
import { hostKeyFingerprint } from "../builds/deploy_keys.ts";

/** A backup root: absolute, plain characters only (it is single-quoted in a remote shell command). */
export const BackupRoot = z.string().max(1024).regex(
  /^\/[A-Za-z0-9._@+\/ -]*$/,
  "must be an absolute path of letters, digits, spaces and . _ @ + / -",
).refine((p) => !p.split("/").includes(".."), "must not contain ..");

/** A host name or IP address (never starting with "-": it goes into ssh_config). */
export const NasHost = z.string().min(1).max(253).regex(
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[?[0-9A-Fa-f:.]{2,45}\]?)$/,
  "must be a host name or an IP address",
);

/** A user name on the NAS. */
export const NasUser = z.string().min(1).max(64).regex(
  /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
  "must be letters, digits and . _ - (not starting with . or -)",
);

/** How to reach one NAS and which folder to read. */
export interface NasConnection {
  host: string;
  port: number;
  user: string;
  auth: { kind: "key"; privateKey: string } | { kind: "password"; password: string };
  /** The pinned known_hosts lines; absent on first use (the key seen is returned to be pinned). */
  knownHost?: string | null;
  backupRoot: string;
}

/** A site and its newest entry. */
export interface ListedSite {
  name: string;
  /** Relative to the site; "" when the site has nothing inside (its own time counts). */
  newestPath: string;
  newestMtime: number;
}

/** What one listing found. */
export interface NasListing {
  sites: ListedSite[];
  /** The listing stopped at its entry limit: some sites may look older than they are. */
  truncated: boolean;
  /** On first use: the host key now pinned. */
  knownHost?: { line: string; fingerprint: string };
}

/** A check that failed; the message names the cause and never holds a secret. */
export class NasCheckError extends Error {
  constructor(
    message: string,
    /** On first use, the host key seen before the failure (pinned all the same). */
    readonly knownHost?: { line: string; fingerprint: string },
  ) {
    super(message);
    this.name = "NasCheckError";
  }
}

/** Bounds and binaries of a listing. */
export interface ListOptions {
  sshBin?: string;
  /** Whole run (connection included); default 60 s. */
  timeoutMs?: number;
  /** Entries read at most (all sites together); default 5000. */
  maxEntries?: number;
  /** Sites kept at most; default 1000. */
  maxSites?: number;
  tempDir?: string;
}

const ALIAS = "capstan-nas";
const MAX_STDERR = 16_384;
/** An entry's line is at most a path of 4096 bytes plus its time and type. */
const BYTES_PER_ENTRY = 4200;

const ASKPASS_SCRIPT = `#!/bin/sh
# Written by Capstan for one NAS check. ssh runs it (no shell in between) with its prompt as the
# only argument; the password comes from a 0600 file, and only a password prompt gets it.
case "$1" in
  *assword*|*ASSWORD*) exec cat -- "$CAPSTAN_NAS_PASSWORD_FILE" ;;
  *) exit 1 ;;
esac
`;

/**
 * The remote command: entries under the root down to three levels (site + two inside), one per
 * NUL-ended record "<mtime seconds> <type> <path relative to the root>", at most `max` of them.
 */
export function remoteListCommand(root: string, max: number): string {
  const r = BackupRoot.safeParse(root);
  if (!r.success) throw new Error(`unsafe backup root: ${r.error.issues[0].message}`);
  if (!Number.isInteger(max) || max < 1) throw new Error("max must be a positive integer");
  return `cd -- '${root}' && find . -mindepth 1 -maxdepth 3 -printf '%T@ %y %P\\0' | head -z -n ${max}`;
}

/**
 * The sites in a listing's output: each first path segment, with its newest entry inside (or its
 * own time when nothing is inside). Records that do not parse are skipped.
 */
export function parseListing(
  out: string,
  limits: { maxEntries: number; maxSites: number },
): { sites: ListedSite[]; truncated: boolean } {
  const records = out.split("\0").filter((r) => r.length > 0);
  let truncated = records.length > limits.maxEntries;
  const own = new Map<string, number>();
  const inside = new Map<string, { path: string; mtime: number; dir: boolean }>();
  for (const rec of records.slice(0, limits.maxEntries)) {
    const m = /^(\d{1,12}(?:\.\d+)?) (\S) (.+)$/s.exec(rec);
    if (!m) continue;
    const mtime = Math.round(Number(m[1]) * 1000);
    if (!Number.isFinite(mtime)) continue;
    const path = m[3];
    const slash = path.indexOf("/");
    const site = slash < 0 ? path : path.slice(0, slash);
    if (!site || site === "." || site === "..") continue;
    if (slash < 0) {
      own.set(site, mtime);
      continue;
    }
    const dir = m[2] === "d";
    const prev = inside.get(site);
    // At equal times the file is named rather than its folder (writing it touched the folder).
    if (!prev || mtime > prev.mtime || (mtime === prev.mtime && prev.dir && !dir)) {
      inside.set(site, { path: path.slice(slash + 1), mtime, dir });
    }
  }
  const names = [...new Set([...own.keys(), ...inside.keys()])].sort();
  if (names.length > limits.maxSites) truncated = true;
  const sites = names.slice(0, limits.maxSites).map((name) => {
    const newest = inside.get(name);
    return newest
      ? { name, newestPath: newest.path, newestMtime: newest.mtime }
      : { name, newestPath: "", newestMtime: own.get(name)! };
  });
  return { sites, truncated };
}

/** What ssh's (or the remote shell's) messages mean, in a sentence a person can act on. */
const FAILURES: [RegExp, string][] = [
  [
    /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
    "the NAS's host key changed: it is not the key pinned on first use. If the NAS was reinstalled, forget the pinned host key; otherwise someone may be in the middle",
  ],
  [
    /Host key verification failed|No (?:ED25519|RSA|ECDSA)? ?host key is known/i,
    "host key verification failed: the NAS's key is not the pinned one",
  ],
  [
    /Permission denied/i,
    "the NAS refused the login (Permission denied): check the user, and that the public key is in its authorized_keys or the password is right",
  ],
  [/Connection refused/i, "the connection was refused (is SSH enabled on that port?)"],
  [
    /Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i,
    "the host name does not resolve",
  ],
  [/timed out|No route to host|Network is unreachable/i, "the NAS cannot be reached (timed out)"],
  [
    /can't cd|cd: .*(?:No such file|not found|can't)|No such file or directory/i,
    "the backup root does not exist on the NAS or is not a folder",
  ],
  [
    /unrecognized: -printf|unknown predicate .-printf|invalid predicate|-printf: unknown/i,
    "the NAS's find has no -printf (GNU findutils is needed)",
  ],
  [
    /head: .*(?:invalid|unrecognized).*-z|illegal option -- z/i,
    "the NAS's head has no -z (GNU coreutils is needed)",
  ],
];

/** The error a failed run means; the last line of stderr is added when nothing else matched. */
export function failureOf(code: number, stderr: string, target: string): string {
  for (const [re, why] of FAILURES) if (re.test(stderr)) return `Cannot check ${target}: ${why}`;
  const last = stderr.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "";
  return `Cannot check ${target}: ssh exited with ${code}${last ? ` (${last.slice(0, 300)})` : ""}`;
}

/** Reads a stream up to `max` bytes; more is an error (the NAS sent more than it was asked). */
async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += chunk.length;
    if (n > max) throw new Error(`more than ${max} bytes of output`);
    chunks.push(chunk);
  }
  return new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** Reads a stream keeping only its last `max` bytes. */
async function readTail(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  for await (const chunk of stream) text = (text + dec.decode(chunk, { stream: true })).slice(-max);
  return text;
}

/** Lists the sites under `conn.backupRoot`; throws NasCheckError with the cause. */
export async function listBackups(
  conn: NasConnection,
  opts: ListOptions = {},
): Promise<NasListing> {
  const maxEntries = opts.maxEntries ?? 5000;
  const maxSites = opts.maxSites ?? 1000;
  const where = `${conn.user}@${conn.host}:${conn.port}`;
  for (const [schema, value] of [[NasHost, conn.host], [NasUser, conn.user]] as const) {
    const r = schema.safeParse(value);
    if (!r.success) throw new NasCheckError(`Cannot check ${where}: ${r.error.issues[0].message}`);
  }
  if (!Number.isInteger(conn.port) || conn.port < 1 || conn.port > 65535) {
    throw new NasCheckError(`Cannot check ${where}: the port must be 1-65535`);
  }
  const command = remoteListCommand(conn.backupRoot, maxEntries + 1);
  const tmp = await Deno.makeTempDir({ dir: opts.tempDir, prefix: "capstan-nas-" });
  try {
    if (!SAFE_PATH.test(tmp)) throw new Error(`unexpected temporary folder name ${tmp}`);
    await Deno.chmod(tmp, 0o700);
    const pinned = !!conn.knownHost?.trim();
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: tmp,
      LANG: "C",
    };
    const secrets: string[] = [];
    if (conn.auth.kind === "key") {
      const key = conn.auth.privateKey.replace(/\r\n/g, "\n");
      await writePrivate(join(tmp, "id"), key.endsWith("\n") ? key : `${key}\n`);
    } else {
      secrets.push(conn.auth.password);
      await writePrivate(join(tmp, "password"), `${conn.auth.password}\n`);
      await writePrivate(join(tmp, "askpass"), ASKPASS_SCRIPT, 0o700);
      env.SSH_ASKPASS = join(tmp, "askpass");
      env.SSH_ASKPASS_REQUIRE = "force";
      env.CAPSTAN_NAS_PASSWORD_FILE = join(tmp, "password");
    }
    await writePrivate(
      join(tmp, "known_hosts"),
      pinned ? `${conn.knownHost!.replace(/\r\n/g, "\n").trim()}\n` : "",
    );
    await writePrivate(
      join(tmp, "ssh_config"),
      [
        `Host ${ALIAS}`,
        `  HostName ${conn.host.replace(/^\[(.*)\]$/, "$1")}`,
        `  Port ${conn.port}`,
        `  User ${conn.user}`,
        "",
        sshConfig(tmp, pinned, conn.auth.kind === "key" ? "publickey" : "password"),
      ].join("\n"),
    );
    const child = new Deno.Command(opts.sshBin ?? "ssh", {
      args: ["-F", join(tmp, "ssh_config"), "-T", ALIAS, command],
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    }).spawn();
    const [status, out, err] = await Promise.all([
      child.status,
      readCapped(child.stdout, (maxEntries + 1) * BYTES_PER_ENTRY).catch((e: Error) => e),
      readTail(child.stderr, MAX_STDERR).catch(() => ""),
    ]);
    const scrub = secretScrubber(secrets);
    const stderr = scrub(err);
    const seen = pinned ? undefined : await seenHostKey(tmp);
    if (out instanceof Error) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      throw new NasCheckError(`Cannot check ${where}: the NAS sent ${out.message}`, seen);
    }
    if (status.signal === "SIGTERM" || status.signal === "SIGKILL") {
      throw new NasCheckError(`Cannot check ${where}: no answer in time`, seen);
    }
    // `head` ends the pipeline, so a find that failed outright shows only on stderr.
    if (!status.success || /-printf|head: /.test(stderr)) {
      throw new NasCheckError(failureOf(status.code, stderr, where), seen);
    }
    const listed = parseListing(new TextDecoder().decode(out), { maxEntries, maxSites });
    return { ...listed, ...(seen ? { knownHost: seen } : {}) };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The host key ssh recorded on first use (accept-new), if it got that far. */
async function seenHostKey(
  tmp: string,
): Promise<{ line: string; fingerprint: string } | undefined> {
  const text = await Deno.readTextFile(join(tmp, "known_hosts")).catch(() => "");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (!lines.length) return undefined;
  try {
    return { line: lines.join("\n"), fingerprint: hostKeyFingerprint(lines[0]) };
  } catch {
    return undefined;
  }
}
