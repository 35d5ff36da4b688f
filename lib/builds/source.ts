import * as z from "zod";

/**
 * Where a build's source comes from: a Git repository, a branch, optionally an exact commit, the
 * folder and build file inside it, and the credentials to read it. Shared by the hub (which checks
 * what users type) and the agent (which checks again before it runs `git`), so a value that reaches
 * `git`'s argv has passed these rules twice.
 *
 * Every rule here is an allowlist: what `git` could read as an option (a leading `-`), a transport
 * that runs commands (`ext::`, `fd::`), a local path on the builder, or a secret in a URL is
 * refused before any process starts.
 */

const MAX_URL = 2048;
// Whitespace and control characters: a URL with them is a mistake at best and argv smuggling at
// worst (a newline in a logged line, a space that a later shell-minded reader splits on).
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
// A host as Git and OpenSSH read it: a name, an IPv4 address or a bracketed IPv6 literal. Never
// starting with "-", which ssh would take for an option (CVE-2017-1000117).
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])`;
const SSH_USER = String.raw`[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}`;
const SSH_URL = new RegExp(`^ssh://(?:${SSH_USER}@)?${HOST}(?::[0-9]{1,5})?/\\S+$`);
// scp-like: `[user@]host:path`, with no slash before the colon (Git's own rule for this form).
const SCP_LIKE = new RegExp(`^(?:${SSH_USER}@)?${HOST}:(?!/?-)[^\\s]+$`);

/** How `git` reaches a repository URL: smart HTTP(S), SSH, or the builder's own filesystem. */
export type GitTransport = "http" | "ssh" | "local";

/** The transport a URL that passed `gitUrlSchema` uses. */
export function gitTransport(url: string): GitTransport {
  if (/^https?:\/\//i.test(url)) return "http";
  if (url.startsWith("file://") || url.startsWith("/")) return "local";
  return "ssh";
}

/** Why a URL is refused, or null when it is acceptable. */
function refuseGitUrl(url: string, allowLocal: boolean): string | null {
  if (url.length === 0) return "must not be empty";
  if (url.length > MAX_URL) return `must be at most ${MAX_URL} characters`;
  if (WHITESPACE_OR_CONTROL.test(url)) return "must not contain spaces or control characters";
  if (url.startsWith("-")) return 'must not start with "-"';
  if (/^https?:\/\//i.test(url)) {
    // The WHATWG parser reads "https:///x" as host "x" and "\\" as "/"; curl does not. Refused, so
    // the URL judged here is the URL git fetches.
    if (!/^https?:\/\/[^/\\]/i.test(url) || url.includes("\\")) return "is not a valid URL";
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return "is not a valid URL";
    }
    if (parsed.username || parsed.password) {
      return "must not contain credentials: put the access token in the token field instead";
    }
    if (!parsed.hostname) return "must name a host";
    return null;
  }
  if (/^ssh:\/\//i.test(url)) {
    // A password in an ssh:// URL is never used by Capstan (keys only) and would be a secret in
    // the clear wherever the URL is shown.
    if (/^ssh:\/\/[^/@]*:[^/@]*@/i.test(url)) {
      return "must not contain a password: use a deploy key";
    }
    return SSH_URL.test(url) ? null : "is not a valid ssh:// URL (ssh://user@host[:port]/path)";
  }
  if (/^file:\/\//i.test(url) || url.startsWith("/")) {
    if (!allowLocal) return "must be an https://, http://, ssh:// or user@host:path URL";
    if (url.startsWith("/") && url.split("/").includes("..")) {
      return 'must not contain ".." segments';
    }
    return null;
  }
  // Anything else with "::" or "scheme://" is another transport (ext::, fd::, git://, ftp://…).
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || url.includes("::")) {
    return "must be an https://, http://, ssh:// or user@host:path URL";
  }
  if (SCP_LIKE.test(url)) return null;
  return "must be an https://, http://, ssh:// or user@host:path URL";
}

/**
 * A Git repository URL: `https://`, `http://`, `ssh://user@host[:port]/path` or scp-like
 * `git@host:path`; `file://` and absolute local paths only when `allowLocal` (admins: the builder's
 * disk is theirs). Credentials in the URL are refused: the token has its own write-only field.
 */
export function gitUrlSchema(opts: { allowLocal: boolean }) {
  return z.string().superRefine((url, ctx) => {
    const why = refuseGitUrl(url, opts.allowLocal);
    if (why) ctx.addIssue({ code: "custom", message: `Git URL ${why}` });
  });
}

/** A Git URL as any user may give it (no local paths). */
export const GitUrl = gitUrlSchema({ allowLocal: false });

/** Why a branch name breaks `git check-ref-format --branch`, or null. */
function refuseBranch(name: string): string | null {
  if (name.length === 0) return "must not be empty";
  if (name.length > 255) return "must be at most 255 characters";
  if (name === "@") return 'must not be "@"';
  if (/[\p{Cc} ~^:?*[\\]/u.test(name)) {
    return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\";
  }
  if (name.includes("..")) return 'must not contain ".."';
  if (name.includes("@{")) return 'must not contain "@{"';
  if (name.startsWith("-")) return 'must not start with "-"';
  if (name.startsWith("/") || name.endsWith("/")) return 'must not start or end with "/"';
  if (name.endsWith(".")) return 'must not end with "."';
  for (const part of name.split("/")) {
    if (part === "") return 'must not contain "//"';
    if (part.startsWith(".")) return 'must not have a part starting with "."';
    if (part.endsWith(".lock")) return 'must not have a part ending with ".lock"';
  }
  return null;
}

/** A branch name by Git's check-ref-format rules (max 255 characters). */
export const BranchName = z.string().superRefine((name, ctx) => {
  const why = refuseBranch(name);
  if (why) ctx.addIssue({ code: "custom", message: `Branch name ${why}` });
});

/** Why a path inside the repository is refused, or null. */
function refuseRelativePath(path: string): string | null {
  if (path.length > 1024) return "must be at most 1024 characters";
  if (/[\p{Cc}\\]/u.test(path)) return "must not contain control characters or \\";
  if (path.startsWith("/")) return 'must be relative (no leading "/")';
  if (path.split("/").includes("..")) return 'must not contain ".." segments';
  return null;
}

/** A path inside the checkout: relative, without ".." segments, at most 1024 characters. */
function relativePath(what: string) {
  return z.string().min(1, `${what} must not be empty`).superRefine((path, ctx) => {
    const why = refuseRelativePath(path);
    if (why) ctx.addIssue({ code: "custom", message: `${what} ${why}` });
  });
}

/** The folder of the repository to build from ("." for its root). */
export const SubDir = relativePath("Folder");

/** The build file (Dockerfile, default.nix…) relative to the build folder. */
export const BuildFilePath = relativePath("Build file path");

/** A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories), lower-cased. */
export const CommitSha = z.string().toLowerCase().regex(
  /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/,
  "Commit must be a full commit id (40 or 64 hex digits)",
);

const NO_CONTROL = /^\P{Cc}*$/u;

/** An access token for HTTPS (a personal or project access token; Basic auth password). */
const TokenAuth = z.object({
  kind: z.literal("token"),
  username: z.string().min(1).max(256).regex(
    /^[^\p{Cc}:]*$/u,
    "User name must not contain control characters or ':'",
  ).optional(),
  token: z.string().min(1, "Token must not be empty").max(4096).regex(
    NO_CONTROL,
    "Token must not contain control characters",
  ),
});

const PRIVATE_KEY =
  /^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n(?:[A-Za-z0-9+/=]+\r?\n)+-----END OPENSSH PRIVATE KEY-----\r?\n?$/;
// One known_hosts entry: [marker] hosts keytype base64 [comment]; comments and blank lines pass.
const KNOWN_HOSTS_LINE =
  /^(?:|#.*|(?:@[a-z-]+ )?\S+ [A-Za-z0-9@.-]+ [A-Za-z0-9+/]{16,}={0,2}(?: \P{Cc}*)?)$/u;

/** A deploy key (OpenSSH private key format) and, once pinned, the host's known_hosts lines. */
const SshAuth = z.object({
  kind: z.literal("ssh"),
  private_key: z.string().max(16_384).regex(
    PRIVATE_KEY,
    'Private key must be in OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----")',
  ),
  known_hosts: z.string().max(65_536).refine(
    (text) => text.split(/\r?\n/).every((line) => KNOWN_HOSTS_LINE.test(line)),
    'known_hosts must hold lines of the form "host keytype base64-key"',
  ).optional(),
});

/** Credentials to read a repository: an HTTPS token or an SSH deploy key. */
export const GitAuth = z.discriminatedUnion("kind", [TokenAuth, SshAuth]);
export type GitAuth = z.infer<typeof GitAuth>;
