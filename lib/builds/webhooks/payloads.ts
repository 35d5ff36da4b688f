/**
 * Turns a verified, JSON-parsed webhook body into the one push shape the builds module acts on.
 * Each provider's schema is loose and names only the fields used; anything that does not fit is
 * `ignored` with a reason instead of an error, since a Git host retries what it sees fail.
 */
import { z } from "zod";
import type { Provider } from "./providers.ts";

/** What a delivery asks for, once normalised. Exactly one of `branch` and `tag` is set on a push. */
export type NormalizedDelivery =
  | { kind: "ping" }
  | {
    kind: "push";
    /** The full ref, e.g. `refs/heads/main`. */
    ref: string;
    branch?: string;
    tag?: string;
    /** The commit to build: 40 lowercase hex; 40 zeros when the ref was deleted. */
    commit: string;
    author?: string;
    message?: string;
    /** The repository's clone (https, ssh) and web URLs as the host reports them. */
    repoUrls: string[];
    deleted: boolean;
  }
  | { kind: "ignored"; reason: string };

type Push = Extract<NormalizedDelivery, { kind: "push" }>;

/** The longest author name kept (longer ones are cut). */
export const MAX_AUTHOR = 200;
/** The longest commit message kept (longer ones are cut, never refused). */
export const MAX_MESSAGE = 4000;
const MAX_URL = 2048;
const ZERO_SHA = "0".repeat(40);
const SHA1 = /^[0-9a-fA-F]{40}$/;

// Optional fields never sink a delivery: a wrong type or size just leaves them out.
const text = (max: number) => z.string().max(max).optional().catch(undefined);
const freeText = z.string().optional().catch(undefined);
const url = text(MAX_URL);
const sha = z.string().regex(SHA1);
const ref = z.string().min(1).max(300);

const GitHubLikeCommit = z.looseObject({
  id: z.string().optional().catch(undefined),
  message: freeText,
  author: z.looseObject({ name: freeText }).optional().catch(undefined),
});

// GitHub, and Gitea/Forgejo, which copy its push payload.
const GitHubPush = z.looseObject({
  ref,
  after: sha,
  deleted: z.boolean().optional().catch(undefined),
  head_commit: GitHubLikeCommit.nullish().catch(undefined),
  commits: z.array(GitHubLikeCommit.catch({})).max(2048).nullish().catch(undefined),
  repository: z.looseObject({ clone_url: url, ssh_url: url, html_url: url }).optional()
    .catch(undefined),
});

const GitLabPush = z.looseObject({
  ref,
  after: sha,
  checkout_sha: sha.nullish().catch(undefined),
  commits: z.array(GitHubLikeCommit.catch({})).max(2048).nullish().catch(undefined),
  project: z.looseObject({ git_http_url: url, git_ssh_url: url, web_url: url }).optional()
    .catch(undefined),
  // Older GitLab versions named the URLs only here.
  repository: z.looseObject({ git_http_url: url, git_ssh_url: url, homepage: url }).optional()
    .catch(undefined),
});

const BitbucketRef = z.looseObject({
  type: z.string(),
  name: z.string().min(1).max(255),
  target: z.looseObject({
    hash: sha,
    message: freeText,
    author: z.looseObject({ raw: freeText }).optional().catch(undefined),
  }),
});

const BitbucketPush = z.looseObject({
  push: z.looseObject({
    changes: z.array(z.looseObject({
      new: BitbucketRef.nullish().catch(undefined),
      old: BitbucketRef.nullish().catch(undefined),
    })).min(1).max(1024),
  }),
  repository: z.looseObject({
    full_name: text(300),
    links: z.looseObject({ html: z.looseObject({ href: url }).optional() }).optional(),
  }).optional().catch(undefined),
});

/** The push event names each provider sends (GitLab sends tags as their own event). */
const PUSH_EVENTS: Record<Provider, readonly string[]> = {
  github: ["push"],
  gitlab: ["Push Hook", "Tag Push Hook"],
  bitbucket: ["repo:push"],
  gitea: ["push"],
};

/** Normalises a verified, JSON-parsed body into a ping, a push, or a reason it is ignored. */
export function parseDelivery(
  provider: Provider,
  event: string | undefined,
  json: unknown,
): NormalizedDelivery {
  if (event === undefined) return ignored("no event name");
  if (provider === "github" && event === "ping") return { kind: "ping" };
  if (!PUSH_EVENTS[provider]?.includes(event)) {
    return ignored(`event "${event.slice(0, 64)}" is not a push`);
  }
  switch (provider) {
    case "github":
    case "gitea":
      return parseGitHubLike(json);
    case "gitlab":
      return parseGitLab(json);
    case "bitbucket":
      return parseBitbucket(json);
  }
}

function parseGitHubLike(json: unknown): NormalizedDelivery {
  const parsed = GitHubPush.safeParse(json);
  if (!parsed.success) return ignored("push payload has no valid ref or after");
  const p = parsed.data;
  // head_commit names the commit itself, so it is preferred over `after` (which may name an
  // annotated tag's object); older Gitea versions send only `commits`.
  const headId = p.head_commit?.id;
  const commit = headId && SHA1.test(headId) ? headId : p.after;
  const head = p.head_commit ?? pickCommit(p.commits, p.after);
  const deleted = p.deleted === true || p.after === ZERO_SHA;
  const r = p.repository;
  return push(p.ref, commit, deleted, head, [r?.clone_url, r?.ssh_url, r?.html_url]);
}

function parseGitLab(json: unknown): NormalizedDelivery {
  const parsed = GitLabPush.safeParse(json);
  if (!parsed.success) return ignored("push payload has no valid ref or after");
  const p = parsed.data;
  // checkout_sha is the commit for an annotated tag too; `after` is then the tag object.
  const commit = p.checkout_sha ?? p.after;
  const head = pickCommit(p.commits, commit);
  const urls = [p.project?.git_http_url, p.project?.git_ssh_url, p.project?.web_url];
  urls.push(p.repository?.git_http_url, p.repository?.git_ssh_url, p.repository?.homepage);
  return push(p.ref, commit, p.after === ZERO_SHA, head, urls);
}

function parseBitbucket(json: unknown): NormalizedDelivery {
  const parsed = BitbucketPush.safeParse(json);
  if (!parsed.success) return ignored("push payload has no valid changes");
  const { changes } = parsed.data.push;
  // One push can move several refs; the last change is the newest. A deletion has only `old`.
  const updated = changes.findLast((c) => c.new)?.new;
  const target = updated ?? changes.findLast((c) => c.old)?.old;
  if (!target) return ignored("push changes name no ref");
  const prefix = target.type === "branch"
    ? "refs/heads/"
    : target.type === "tag"
    ? "refs/tags/"
    : "";
  if (!prefix) return ignored(`ref type "${target.type.slice(0, 40)}" is not a branch or tag`);
  const html = parsed.data.repository?.links?.html?.href?.replace(/\/+$/, "");
  const author = target.target.author?.raw?.replace(/\s*<[^>]*>\s*$/, "");
  const head = updated ? { message: target.target.message, author: { name: author } } : undefined;
  return push(
    prefix + target.name,
    updated ? target.target.hash : ZERO_SHA,
    !updated,
    head,
    [html ? `${html}.git` : undefined, sshFromHtml(html), html],
  );
}

function pickCommit<T extends { id?: string }>(commits: T[] | null | undefined, id: string) {
  if (!commits?.length) return undefined;
  return commits.find((c) => c.id?.toLowerCase() === id.toLowerCase()) ?? commits.at(-1);
}

// Bitbucket's push payload carries no clone links: the ssh form is git@host:workspace/repo.git.
function sshFromHtml(html: string | undefined): string | undefined {
  if (!html) return undefined;
  try {
    const u = new URL(html);
    const path = u.pathname.replace(/^\/+|\/+$/g, "");
    return path ? `git@${u.hostname}:${path}.git` : undefined;
  } catch {
    return undefined;
  }
}

function push(
  fullRef: string,
  commit: string,
  deletedFlag: boolean,
  head: { message?: string; author?: { name?: string } } | undefined,
  urls: (string | undefined)[],
): NormalizedDelivery {
  const named = splitRef(fullRef);
  if (!named) return ignored("ref is not a valid branch or tag");
  const sha = commit.toLowerCase();
  const deleted = deletedFlag || sha === ZERO_SHA;
  const out: Push = {
    kind: "push",
    ref: fullRef,
    ...named,
    commit: deleted ? ZERO_SHA : sha,
    repoUrls: [...new Set(urls.filter((u): u is string => !!u && !/[\s\p{Cc}]/u.test(u)))],
    deleted,
  };
  if (!deleted && head) {
    const author = clean(head.author?.name, MAX_AUTHOR, false);
    const message = clean(head.message, MAX_MESSAGE, true);
    if (author) out.author = author;
    if (message) out.message = message;
  }
  return out;
}

/** `refs/heads/x` or `refs/tags/x`, with x a name `git check-ref-format` would accept. */
function splitRef(fullRef: string): { branch: string } | { tag: string } | undefined {
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(fullRef);
  if (!m || !validRefName(m[2])) return undefined;
  return m[1] === "heads" ? { branch: m[2] } : { tag: m[2] };
}

function validRefName(name: string): boolean {
  if (name.length > 255 || name === "@") return false;
  // Control characters, space and the characters git reserves; no ".." or "@{" anywhere.
  if (/[\p{Cc} ~^:?*[\\]|\.\.|@\{|\/\//u.test(name)) return false;
  // A leading "-" would read as an option to git; "." and "/" ends and ".lock" are refused by git.
  if (/^[-./]|[./]$|\.lock$|\/\.|\.lock\//.test(name)) return false;
  return true;
}

/** Cuts to `max` UTF-16 units without splitting a surrogate pair; drops control characters. */
function clean(value: string | undefined, max: number, multiline: boolean): string | undefined {
  if (!value) return undefined;
  const controls = multiline ? /(?![\n\t])\p{Cc}/gu : /\p{Cc}/gu;
  let s = value.replace(/\r\n?/g, "\n").replace(controls, multiline ? "" : " ").trim();
  if (s.length > max) {
    s = s.slice(0, max);
    if (/[\ud800-\udbff]$/.test(s)) s = s.slice(0, -1);
  }
  return s || undefined;
}

function ignored(reason: string): NormalizedDelivery {
  return { kind: "ignored", reason };
}
