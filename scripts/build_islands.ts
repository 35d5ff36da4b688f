/**
 * `deno task build`: bundles the registered islands into static/_islands/ and prints the
 * manifest. Skips bundling when the inputs are unchanged; `--force` rebuilds anyway.
 */
import { fileURLToPath } from "node:url";
import { buildIslands } from "../lib/islands/build.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const started = performance.now();
try {
  const manifest = await buildIslands({
    root,
    force: Deno.args.includes("--force"),
    log: (line) => console.log(line),
  });
  console.log(`boot     ${manifest.boot}`);
  for (const [name, url] of Object.entries(manifest.islands)) {
    console.log(`island   ${name} → ${url}`);
  }
  const chunks = new Set(Object.values(manifest.imports).flat());
  for (const url of chunks) console.log(`chunk    ${url}`);
  console.log(`done in ${Math.round(performance.now() - started)} ms`);
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(1);
}
