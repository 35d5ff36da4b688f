/**
 * Git repositories for tests: a bare repository (what a Git host serves) and a work tree beside it
 * that commits and pushes into it. Every `git` call is an argv array; the committer is set with
 * `-c` so the machine's own Git configuration plays no part.
 */
import { dirname, join } from "node:path";

/** The files of a commit: path (relative, "/"-separated) → content. */
export type RepoFiles = Record<string, string | Uint8Array>;

/** A bare repository and the way to add commits to it. */
export interface TestRepo {
  /** Absolute path of the bare repository (`<root>/<name>.git`). */
  bare: string;
  /** Writes the files, commits them with the message and pushes; returns the new commit id. */
  commit(files: RepoFiles, message: string, opts?: { branch?: string }): Promise<string>;
}

/** Options of `createRepo`: the default branch and who commits. */
export interface RepoOptions {
  branch?: string;
  author?: { name: string; email: string };
  message?: string;
}

/** Runs git (argv) in `cwd`, returning trimmed stdout; throws with stderr when it fails. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command("git", {
    args,
    cwd,
    env: { GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`git ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout).trim();
}

/**
 * A bare repository `<root>/<name>.git` holding one first commit of `files` on `branch` (default
 * "main"); the work tree that pushes to it is `<root>/<name>.work`.
 */
export async function createRepo(
  root: string,
  name: string,
  files: RepoFiles,
  opts: RepoOptions = {},
): Promise<TestRepo> {
  const branch = opts.branch ?? "main";
  const author = opts.author ?? { name: "Test Author", email: "author@example.test" };
  const bare = join(root, `${name}.git`);
  const work = join(root, `${name}.work`);
  await git(root, ["init", "-q", "--bare", "-b", branch, bare]);
  await git(root, ["init", "-q", "-b", branch, work]);
  await git(work, ["remote", "add", "origin", bare]);
  const identity = [
    "-c",
    `user.name=${author.name}`,
    "-c",
    `user.email=${author.email}`,
    "-c",
    "commit.gpgSign=false",
  ];
  const commit = async (more: RepoFiles, message: string, o: { branch?: string } = {}) => {
    const target = o.branch ?? branch;
    const current = await git(work, ["symbolic-ref", "--short", "HEAD"]);
    if (current !== target) await git(work, ["checkout", "-q", "-B", target]);
    for (const [path, content] of Object.entries(more)) {
      const file = join(work, path);
      await Deno.mkdir(dirname(file), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(file, content);
      else await Deno.writeFile(file, content);
    }
    await git(work, ["add", "-A"]);
    await git(work, [...identity, "commit", "-q", "--allow-empty", "-m", message]);
    await git(work, ["push", "-q", "origin", `HEAD:refs/heads/${target}`]);
    return await git(work, ["rev-parse", "HEAD"]);
  };
  await commit(files, opts.message ?? "First commit");
  return { bare, commit };
}
