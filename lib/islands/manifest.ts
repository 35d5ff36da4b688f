/**
 * The islands manifest: what `buildIslands()` produced, read by SSR to find module URLs.
 * Kept apart from build.ts so the request path never loads the bundler code.
 */
import { join } from "node:path";

/** File name of the manifest inside the islands out dir. */
export const MANIFEST_FILE = "manifest.json";

/** Format version; bump when the shape changes so old manifests force a rebuild. */
export const MANIFEST_VERSION = 1;

/** Result of an islands build, as stored in `<outDir>/manifest.json`. */
export interface IslandManifest {
  version: typeof MANIFEST_VERSION;
  /** Hash of the build inputs; an equal hash lets the next build skip bundling. */
  inputHash: string;
  /** URL prefix of every file below, e.g. "/_islands/". */
  publicPath: string;
  /** URL of the client boot module. */
  boot: string;
  /** Island name → URL of its module (default export = component). */
  islands: Record<string, string>;
  /** URL → URLs of the chunks it imports statically, for `<link rel="modulepreload">`. */
  imports: Record<string, string[]>;
}

/** Reads `<outDir>/manifest.json`; null when missing, unreadable or of another version. */
export async function readManifest(outDir: string): Promise<IslandManifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(outDir, MANIFEST_FILE));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    const m = JSON.parse(text) as Partial<IslandManifest>;
    if (
      m.version !== MANIFEST_VERSION || typeof m.inputHash !== "string" ||
      typeof m.boot !== "string" || typeof m.islands !== "object" || m.islands === null ||
      typeof m.imports !== "object" || m.imports === null || typeof m.publicPath !== "string"
    ) return null;
    return m as IslandManifest;
  } catch {
    // A half-written or hand-edited manifest is treated as absent: the next build rewrites it.
    return null;
  }
}

/** File names (relative to the out dir) of every module a manifest refers to. */
export function manifestFiles(m: IslandManifest): string[] {
  const urls = new Set<string>([m.boot, ...Object.values(m.islands)]);
  for (const [from, to] of Object.entries(m.imports)) {
    urls.add(from);
    for (const u of to) urls.add(u);
  }
  return [...urls].map((u) => u.startsWith(m.publicPath) ? u.slice(m.publicPath.length) : u);
}
