/**
 * The local staging repositories of `stop` mode (lib/protocol/snapshots.ts): the volume goes into
 * a restic repository on this host while its containers are down, and only then, with them
 * running again, to the org's target by `restic copy` — so the downtime is the local copy, not
 * the upload.
 *
 * One staging repository per target, kept between runs: its last snapshot of each volume is the
 * parent of the next, so restic reads only changed files while the containers are down. Its
 * password is generated here on first use and kept in a 0600 file beside it (the folder is
 * 0700): it protects nothing the host's root could not read anyway, and never leaves the host.
 * Runs against one staging repository take turns (restic's prune after a copy takes an exclusive
 * lock that a concurrent backup would trip over).
 */
import { join } from "../path.ts";
import type * as z from "zod";
import type { SNAPSHOT_CALL_OPS } from "../../lib/protocol/snapshots.ts";
import { writePrivate } from "../build/git.ts";

type Target = z.output<typeof SNAPSHOT_CALL_OPS["snapshot.unlock"]>["target"];

/** A staging repository on this host. */
export interface StagingRepository {
  /** The repository's folder (restic's repository string for it). */
  repo: string;
  /** Its password file (0600). */
  passwordFile: string;
}

/**
 * What names a target (never its credentials): the same target always stages in one place.
 * WebCrypto, not node:crypto: a `node:` import would start Deno's Node layer in every agent.
 */
export async function targetIdentity(target: Target): Promise<string> {
  const id = target.kind === "filesystem"
    ? [target.kind, target.path]
    : target.kind === "sftp"
    ? [target.kind, target.host, String(target.port), target.user, target.path]
    : [target.kind, target.endpoint, target.bucket, target.prefix];
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify(id)),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 32);
}

/** The staging repository of `target` under `root` (folders made 0700, password made once). */
export async function stagingRepository(root: string, target: Target): Promise<StagingRepository> {
  const dir = join(root, await targetIdentity(target));
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(root, 0o700);
  await Deno.chmod(dir, 0o700);
  const repo = join(dir, "repo");
  const passwordFile = join(dir, "password");
  const known = await Deno.stat(passwordFile).then(() => true, () => false);
  if (!known) {
    // A repository whose password is gone can never be opened again: start over.
    await Deno.remove(repo, { recursive: true }).catch(() => {});
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const password = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    await writePrivate(`${passwordFile}.new`, password).catch(async (err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      await Deno.remove(`${passwordFile}.new`);
      await writePrivate(`${passwordFile}.new`, password);
    });
    await Deno.rename(`${passwordFile}.new`, passwordFile);
  }
  return { repo, passwordFile };
}

/** Whether a restic repository was made in `repo` (its config file exists). */
export async function repositoryExists(repo: string): Promise<boolean> {
  return await Deno.stat(join(repo, "config")).then((s) => s.isFile, () => false);
}

const turns = new Map<string, Promise<unknown>>();

/** Runs `body` when every earlier run for `key` has ended (one at a time per key). */
export async function oneAtATime<T>(key: string, body: () => Promise<T>): Promise<T> {
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.catch(() => {}).then(body);
  const settled = mine.catch(() => {});
  turns.set(key, settled);
  try {
    return await mine;
  } finally {
    if (turns.get(key) === settled) turns.delete(key);
  }
}
