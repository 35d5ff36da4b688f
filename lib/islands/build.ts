/**
 * Bundles the client boot module and every registered island for the browser with
 * `deno bundle --code-splitting`, so Preact (and anything else shared) lands in one chunk that
 * all entries import, then gives every file a content-hashed name and writes manifest.json.
 *
 * What `deno bundle` (2.9, esbuild inside) produces, and why we post-process it:
 * - entries keep their path relative to the entries' common ancestor, so we bundle small
 *   wrapper files from one staging folder to get a flat output (`Name.js`, `capstan-boot.js`);
 * - chunks are named `chunk-<HASH>.js`, but esbuild's hash covers input *paths* too: the same
 *   code built from another folder (a temp dir, another replica's checkout) gets another name.
 *   We therefore rename every file, chunks included, by a hash of its final content, rewriting
 *   the `./chunk-….js` imports bottom-up so a change in a chunk renames its importers as well.
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { defineIslands, type IslandPath } from "./define.ts";
import { islands as registeredIslands } from "./registry.ts";
import {
  type IslandManifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  manifestFiles,
  readManifest,
} from "./manifest.ts";

/** Bump when this file's output changes for the same inputs, to invalidate stored hashes. */
const BUILDER_VERSION = 1;

/** Staging name of the boot entry; contains "-" so no island name can collide with it. */
const BOOT_ENTRY = "capstan-boot";

/** Paths (relative to root) whose content decides whether a rebuild is needed. */
const DEFAULT_INPUTS = ["islands", "components", "lib", "deno.json", "deno.jsonc"];

/** Options of `buildIslands()`. */
export interface BuildIslandsOptions {
  /** Project root: registry paths and `inputs` are relative to it; holds deno.json. */
  root: string;
  /** Output folder, absolute or relative to root. Default "static/_islands". */
  outDir?: string;
  /** URL prefix the out dir is served under. Default "/_islands/". */
  publicPath?: string;
  /** Island name → source path relative to root. Default: lib/islands/registry.ts. */
  islands?: Readonly<Record<string, IslandPath>>;
  /**
   * Files and folders hashed to decide whether to rebuild (deno.lock always is).
   * Default: islands/, components/, lib/, deno.json(c).
   */
  inputs?: string[];
  /** Minify output. Default true. */
  minify?: boolean;
  /** Rebuild even when the inputs hash matches the existing manifest. */
  force?: boolean;
  /** Deno executable to run `deno bundle` with. Default `Deno.execPath()`. */
  denoBin?: string;
  /** Progress messages (build skipped, files written). Default: silent. */
  log?: (line: string) => void;
}

const inFlight = new Map<string, Promise<IslandManifest>>();

/** Builds island bundles into `outDir` and returns the manifest; skips work when inputs are unchanged. */
export function buildIslands(options: BuildIslandsOptions): Promise<IslandManifest> {
  const outDir = resolve(options.root, options.outDir ?? "static/_islands");
  // Two callers in one process (e.g. start-up and a test) share one build instead of racing.
  let p = inFlight.get(outDir);
  if (!p) {
    p = build(options, outDir).finally(() => inFlight.delete(outDir));
    inFlight.set(outDir, p);
  }
  return p;
}

async function build(options: BuildIslandsOptions, outDir: string): Promise<IslandManifest> {
  const root = resolve(options.root);
  const publicPath = options.publicPath ?? "/_islands/";
  if (!publicPath.startsWith("/") || !publicPath.endsWith("/")) {
    throw new Error(`Cannot build islands: publicPath "${publicPath}" must start and end with "/"`);
  }
  // Names become staging and output file names, so a map not made by defineIslands is checked too.
  const islandMap = defineIslands(options.islands ?? registeredIslands);
  const minify = options.minify ?? true;
  const log = options.log ?? (() => {});
  const clientPath = fileURLToPath(new URL("./client.ts", import.meta.url));

  const sourcePaths = [
    ...(options.inputs ?? DEFAULT_INPUTS),
    ...Object.values(islandMap),
    // The builder's own folder matters even when it lives outside root (tests build a temp root).
    dirname(clientPath),
  ];
  const settings = {
    BUILDER_VERSION,
    MANIFEST_VERSION,
    deno: Deno.version.deno,
    minify,
    publicPath,
  };
  const sourceHash = await hashInputs(root, sourcePaths, JSON.stringify({ settings, islandMap }));
  // The lock file is hashed apart because `deno bundle` itself may add entries to it (see below).
  const lockFile = join(root, "deno.lock");
  const inputHash = sha256(sourceHash + await hashInputs(root, [lockFile], ""));

  const existing = options.force ? null : await readManifest(outDir);
  if (existing && existing.inputHash === inputHash && existing.publicPath === publicPath) {
    if (await allExist(outDir, manifestFiles(existing))) {
      log(`islands: inputs unchanged (${inputHash.slice(0, 12)}), build skipped`);
      return existing;
    }
  }

  const denoBin = options.denoBin ?? denoExecutable();
  const stage = await Deno.makeTempDir({ prefix: "capstan-islands-" });
  try {
    const entries = [join(stage, `${BOOT_ENTRY}.ts`)];
    await Deno.writeTextFile(entries[0], `export * from ${JSON.stringify(fileUrl(clientPath))};\n`);
    for (const [name, path] of Object.entries(islandMap)) {
      const src = resolve(root, path);
      if (!(await exists(src))) {
        throw new Error(`Cannot build island "${name}": source file ${path} does not exist`);
      }
      const entry = join(stage, `${name}.ts`);
      await Deno.writeTextFile(entry, `export { default } from ${JSON.stringify(fileUrl(src))};\n`);
      entries.push(entry);
    }

    const bundleDir = join(stage, "out");
    const config = await firstExisting([join(root, "deno.json"), join(root, "deno.jsonc")]);
    const args = [
      "bundle",
      ...(config ? ["--config", config] : []),
      "--platform",
      "browser",
      "--code-splitting",
      ...(minify ? ["--minify"] : []),
      "--outdir",
      bundleDir,
      ...entries,
    ];
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(denoBin, {
        args,
        cwd: root,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (err) {
      throw new Error(
        `Cannot build islands: could not run ${denoBin} (${(err as Error).message}); ` +
          `pass denoBin to buildIslands()`,
        { cause: err },
      );
    }
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      throw new Error(`Cannot build islands: deno bundle exited with ${out.code}:\n${text.trim()}`);
    }

    const files = await readOutputs(bundleDir);
    const entryNames = new Map<string, string>([[`${BOOT_ENTRY}.js`, "boot"]]);
    for (const name of Object.keys(islandMap)) entryNames.set(`${name}.js`, name);
    const { renamed, contents, imports } = contentHashNames(files, entryNames);

    // `deno bundle` records newly resolved npm packages in deno.lock. If only the lock changed
    // while we bundled, store the hash of the lock as it is now, or the next start would rebuild
    // for nothing; if a source changed, keep the old hash so the next build picks it up.
    let storedHash = inputHash;
    if (
      await hashInputs(root, sourcePaths, JSON.stringify({ settings, islandMap })) === sourceHash
    ) {
      storedHash = sha256(sourceHash + await hashInputs(root, [lockFile], ""));
    }

    await Deno.mkdir(outDir, { recursive: true });
    for (const [name, content] of contents) {
      const path = join(outDir, name);
      // Content-addressed: an existing file of that name already has these bytes.
      if (!(await exists(path))) await writeAtomic(path, content);
    }
    const url = (file: string) => publicPath + file;
    const manifest: IslandManifest = {
      version: MANIFEST_VERSION,
      inputHash: storedHash,
      publicPath,
      boot: url(renamed.get(`${BOOT_ENTRY}.js`)!),
      islands: Object.fromEntries(
        Object.keys(islandMap).map((name) => [name, url(renamed.get(`${name}.js`)!)]),
      ),
      imports: Object.fromEntries(
        [...imports].map(([from, to]) => [url(from), to.map(url)]),
      ),
    };
    await writeAtomic(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
    const removed = await removeStale(outDir, new Set(contents.keys()));
    log(
      `islands: built ${contents.size} files into ${relative(root, outDir) || "."}` +
        (removed ? `, removed ${removed} stale` : ""),
    );
    return manifest;
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
  }
}

/** The running Deno binary, refusing a `deno compile` output (it would run the app, not bundle). */
function denoExecutable(): string {
  if (Deno.build.standalone) {
    throw new Error(
      "Cannot build islands: this is a compiled (standalone) binary, which cannot run " +
        "`deno bundle`; build islands beforehand with `deno task build` or pass denoBin",
    );
  }
  try {
    return Deno.execPath();
  } catch (err) {
    throw new Error(
      `Cannot build islands: Deno.execPath() failed (${(err as Error).message}); ` +
        `grant --allow-read or pass denoBin to buildIslands()`,
      { cause: err },
    );
  }
}

/**
 * Renames every output file to `<prefix>-<hash8>.js` where the hash covers its final content,
 * including the (already renamed) names of the chunks it imports.
 */
function contentHashNames(
  files: Map<string, string>,
  entryNames: Map<string, string>,
): { renamed: Map<string, string>; contents: Map<string, string>; imports: Map<string, string[]> } {
  const refRe = /(["'])\.\/([A-Za-z0-9_.-]+\.js)\1/g;
  const deps = new Map<string, Set<string>>();
  for (const [name, code] of files) {
    const d = new Set<string>();
    for (const m of code.matchAll(refRe)) if (files.has(m[2]) && m[2] !== name) d.add(m[2]);
    deps.set(name, d);
  }
  const renamed = new Map<string, string>();
  const contents = new Map<string, string>();
  const rewrite = (code: string, names: Map<string, string>) =>
    code.replace(refRe, (all, q, ref) => names.has(ref) ? `${q}./${names.get(ref)}${q}` : all);
  const prefix = (name: string) =>
    entryNames.get(name) ?? (name.startsWith("chunk-") ? "chunk" : name.replace(/\.js$/, ""));

  const pending = new Set([...files.keys()].sort());
  while (pending.size > 0) {
    let ready = [...pending].filter((n) => [...deps.get(n)!].every((d) => renamed.has(d)));
    let group = "";
    if (ready.length === 0) {
      // Import cycle between chunks: name the rest by their content with cyclic refs blanked,
      // plus a hash of the whole cycle, so a change anywhere in the cycle renames all of it.
      ready = [...pending];
      const blank = new Map(ready.map((n) => [n, "~"]));
      group = sha256(ready.map((n) => rewrite(rewrite(files.get(n)!, renamed), blank)).join("\0"));
    }
    const names = new Map<string, string>();
    for (const n of ready) {
      const code = rewrite(files.get(n)!, renamed);
      const hashed = `${prefix(n)}-${sha256(group + code).slice(0, 8)}.js`;
      names.set(n, hashed);
      contents.set(hashed, code);
    }
    for (const [n, hashed] of names) {
      renamed.set(n, hashed);
      pending.delete(n);
    }
    if (group) {
      // Rewrite the cycle members' references to each other now that all their names exist.
      for (const n of ready) contents.set(names.get(n)!, rewrite(files.get(n)!, renamed));
    }
  }
  const imports = new Map<string, string[]>();
  for (const [name, d] of deps) {
    if (d.size > 0) imports.set(renamed.get(name)!, [...d].map((x) => renamed.get(x)!).sort());
  }
  return { renamed, contents, imports };
}

/** Reads every file `deno bundle` wrote; expects a flat folder. */
async function readOutputs(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".js")) {
      throw new Error(`Cannot build islands: unexpected bundler output "${e.name}"`);
    }
    files.set(e.name, await Deno.readTextFile(join(dir, e.name)));
  }
  return files;
}

/** Removes .js files of earlier builds; returns how many. */
async function removeStale(outDir: string, keep: Set<string>): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(outDir)) {
    if (e.isFile && e.name.endsWith(".js") && !keep.has(e.name)) {
      await Deno.remove(join(outDir, e.name)).catch(() => {});
      n++;
    }
  }
  return n;
}

/**
 * Hashes the content of `paths` (files or folders, relative to root or absolute) plus `extra`.
 * Coarse on purpose (all of lib/, not the exact import graph): a needless rebuild costs a second,
 * a missed one ships stale code.
 */
async function hashInputs(root: string, paths: string[], extra: string): Promise<string> {
  const h = createHash("sha256").update(extra);
  const seen = new Set<string>();
  const files: string[] = [];
  const walk = async (path: string) => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const e of Deno.readDir(path)) {
        // Tests and dot-folders never reach the browser bundle.
        if (
          !e.name.startsWith(".") && e.name !== "node_modules" && !/_test\.[jt]sx?$/.test(e.name)
        ) {
          names.push(e.name);
        }
      }
      for (const name of names.sort()) await walk(join(path, name));
    } else if (info.isFile && !seen.has(path)) {
      seen.add(path);
      files.push(path);
    }
  };
  for (const p of paths) await walk(isAbsolute(p) ? p : resolve(root, p));
  for (const f of files) {
    const rel = f.startsWith(root + sep) ? relative(root, f) : f;
    h.update(`\0${rel}\0`).update(await Deno.readFile(f));
  }
  return h.digest("hex");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function allExist(dir: string, names: string[]): Promise<boolean> {
  for (const n of names) if (!(await exists(join(dir, n)))) return false;
  return true;
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) if (await exists(p)) return p;
  return null;
}

/** Write-then-rename, so a server reading the out dir never sees a half-written file. */
async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, content);
  await Deno.rename(tmp, path);
}
