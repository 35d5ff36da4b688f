/**
 * One real islands build per test process, into a temp dir so parallel runs never share files:
 * for page tests that check an island is rendered (the manifest) or serve its modules (the dir).
 */
import { fileURLToPath } from "node:url";
import { buildIslands } from "../../lib/islands/build.ts";
import type { IslandManifest } from "../../lib/islands/manifest.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let built: Promise<{ manifest: IslandManifest; dir: string }> | undefined;

/** The islands built once for this process: the manifest and the directory it is in. */
export function builtIslands(): Promise<{ manifest: IslandManifest; dir: string }> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "capstan-test-islands-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    });
    return { manifest: await buildIslands({ root: ROOT, outDir: dir }), dir };
  })();
  return built;
}
