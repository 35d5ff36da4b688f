import { join } from "../path.ts";

/**
 * The install directory of a self-updating agent:
 *
 *   versions/<release file>   every downloaded binary (the previous one is kept)
 *   current  -> versions/…    what the service starts (ExecStart)
 *   previous -> versions/…    what ran before the last switch, for rollback
 *   guard    -> versions/…    the last binary that confirmed its health; runs the start-up check
 *                             (ExecStartPre=guard --update-guard), so a new binary that cannot
 *                             even start is still rolled back
 *
 * Links hold relative targets and are replaced by renaming a fresh link over them, which is
 * atomic: a crash leaves the old or the new link, never none.
 */
export interface InstallLayout {
  dir: string;
  versionsDir: string;
  /** Path of a versioned binary inside versions/. */
  versionPath(name: string): string;
  /** The `versions/<name>` a link points at, or undefined when the link is missing. */
  read(link: "current" | "previous" | "guard"): Promise<string | undefined>;
  /** Points `link` at `target` (relative, `versions/<name>`) atomically. */
  point(link: "current" | "previous" | "guard", target: string): Promise<void>;
}

/** The layout under `dir`. */
export function installLayout(dir: string): InstallLayout {
  const versionsDir = join(dir, "versions");
  return {
    dir,
    versionsDir,
    versionPath: (name) => join(versionsDir, name),
    async read(link) {
      try {
        return await Deno.readLink(join(dir, link));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    },
    async point(link, target) {
      if (!/^versions\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(target)) {
        throw new Error(`refusing to point ${link} at ${target}`);
      }
      const tmp = join(dir, `.${link}.${crypto.randomUUID().slice(0, 8)}.tmp`);
      await Deno.symlink(target, tmp);
      try {
        await Deno.rename(tmp, join(dir, link));
      } catch (err) {
        await Deno.remove(tmp).catch(() => {});
        throw err;
      }
    },
  };
}
