/**
 * Writes the Traefik files of `renderTraefik` into the directory Traefik's file provider watches:
 * one `capstan-<org>.yml` per organization, each replaced atomically (a temporary file in the same
 * directory, synced, then renamed over the old one), so Traefik never reads half a file. Files of
 * organizations that no longer have routes are removed; anything else in the directory is left
 * alone. A file whose content did not change is not rewritten, so Traefik does not reload for it.
 */
import { join } from "node:path";
import { traefikFileName } from "./traefik.ts";

const OURS = /^capstan-[A-Za-z0-9_-]{1,64}\.yml$/;
/** Leftovers of a write that died between create and rename; Traefik ignores them (not .yml). */
const OUR_TEMP = /^\.capstan-[A-Za-z0-9_-]{1,64}\.yml\.[0-9a-f]+\.tmp$/;

/** What a write changed in the directory (file names). */
export interface TraefikWriteResult {
  written: string[];
  unchanged: string[];
  removed: string[];
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Replaces `path` with `content` in one rename. */
async function writeAtomically(dir: string, name: string, content: string) {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const suffix = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  const temp = join(dir, `.${name}.${suffix}.tmp`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    await file.write(new TextEncoder().encode(content));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    await Deno.rename(temp, join(dir, name));
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/** Brings `dir` in line with `files` (org id → YAML). */
export async function writeTraefikFiles(
  dir: string,
  files: Map<string, string>,
): Promise<TraefikWriteResult> {
  const result: TraefikWriteResult = { written: [], unchanged: [], removed: [] };
  const wanted = new Set<string>();
  for (const [org, content] of files) {
    const name = traefikFileName(org);
    wanted.add(name);
    if (await readOrNull(join(dir, name)) === content) {
      result.unchanged.push(name);
      continue;
    }
    await writeAtomically(dir, name, content);
    result.written.push(name);
  }
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const stale = (OURS.test(entry.name) && !wanted.has(entry.name)) || OUR_TEMP.test(entry.name);
    if (!stale) continue;
    await Deno.remove(join(dir, entry.name));
    if (OURS.test(entry.name)) result.removed.push(entry.name);
  }
  for (const list of Object.values(result)) list.sort();
  return result;
}
