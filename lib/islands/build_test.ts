import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildIslands } from "./build.ts";
import { type IslandManifest, MANIFEST_FILE } from "./manifest.ts";
import { TEST_ISLAND_SOURCES, testIslands as islands } from "./test_islands.ts";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A throw-away project root with the real deno.json and test island, so the rebuild check sees
 * only what this test changes (the real lib/ is being edited by others while tests run).
 */
async function tempProject(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "capstan-islands-test-" });
  await Deno.mkdir(join(root, "islands"));
  const files: [string, string][] = [
    ["deno.json", "deno.json"],
    ["deno.lock", "deno.lock"],
    [TEST_ISLAND_SOURCES._TestCounter, islands._TestCounter],
  ];
  for (const [from, to] of files) {
    await Deno.copyFile(join(projectRoot, from), join(root, to)).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
  return root;
}

const fileOf = (outDir: string, url: string) => join(outDir, url.replace(/^\/_islands\//, ""));
const read = (outDir: string, url: string) => Deno.readTextFile(fileOf(outDir, url));
const sha8 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8);
/** Preact's diff carries the SVG namespace; its presence marks the file holding Preact core. */
const PREACT_MARK = "http://www.w3.org/2000/svg";

const esc = (name: string) => name.replace(/[$]/g, "\\$");
/** `{ a as b, c }` → Map(b → a, c → c): exported/imported name → local name on the other side. */
function parseBindings(list: string, leftIsLocal: boolean): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of list.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [left, right = left] = part.split(/\s+as\s+/);
    if (leftIsLocal) map.set(right, left); // export { local as exported }
    else map.set(left, right); // import { exported as local }
  }
  return map;
}

/**
 * Proves the boot module calls Preact's `hydrate` even though bundling renamed it: Preact's
 * hydrate is `function hydrate(vnode, parent) { render(vnode, parent, hydrate) }`, so we follow
 * boot's import to the chunk's export and look for a function that passes itself that way,
 * then check boot calls it as `hydrate(h(mod.default, …), …)`.
 */
async function assertBootCallsHydrate(outDir: string, m: IslandManifest) {
  const boot = await read(outDir, m.boot);
  const chunkUrl = m.imports[m.boot].find((u) => /chunk-/.test(u))!;
  const chunk = await read(outDir, chunkUrl);
  const imp = boot.match(/import\s*\{([^}]*)\}\s*from\s*["']\.\/chunk-[0-9a-f]{8}\.js["']/);
  assert.ok(imp, "boot imports from a chunk");
  const imported = parseBindings(imp[1], false);
  const exp = [...chunk.matchAll(/export\s*\{([^}]*)\}/g)].at(-1);
  assert.ok(exp, "chunk has an export list");
  const exported = parseBindings(exp[1], true);
  let hydrateLocal: string | undefined;
  for (const [name, local] of imported) {
    const inner = esc(exported.get(name) ?? "");
    if (!inner) continue;
    const selfPassing = new RegExp(
      `function ${inner}\\s*\\(([\\w$]+),\\s*([\\w$]+)\\)\\s*\\{\\s*[\\w$]+\\(\\1,\\s*\\2,\\s*${inner}\\);?\\s*\\}`,
    );
    if (selfPassing.test(chunk)) hydrateLocal = local;
  }
  assert.ok(hydrateLocal, "boot imports Preact's hydrate from the shared chunk");
  assert.match(
    boot,
    new RegExp(`\\b${esc(hydrateLocal)}\\(\\s*[\\w$]+\\(\\s*[\\w$]+\\.default\\b`),
  );
}

Deno.test("buildIslands() bundles boot and islands with one shared, content-hashed Preact chunk", async () => {
  const root = await tempProject();
  try {
    const outDir = join(root, "out");
    const logs: string[] = [];
    const m = await buildIslands({ root, outDir, islands, log: (l) => logs.push(l) });

    assert.match(m.boot, /^\/_islands\/boot-[0-9a-f]{8}\.js$/);
    assert.deepEqual(Object.keys(m.islands), ["_TestCounter"]);
    assert.match(m.islands._TestCounter, /^\/_islands\/_TestCounter-[0-9a-f]{8}\.js$/);

    // Every file is named by the hash of its content, and only manifest files are in the dir.
    const names = [...Deno.readDirSync(outDir)].map((e) => e.name).sort();
    const urls = new Set([m.boot, m.islands._TestCounter, ...Object.values(m.imports).flat()]);
    assert.deepEqual(names, [...[...urls].map((u) => basename(u)), MANIFEST_FILE].sort());
    for (const url of urls) {
      const hash = url.match(/-([0-9a-f]{8})\.js$/)![1];
      assert.equal(sha8(await read(outDir, url)), hash, `${url} is named by its content`);
    }

    // Exactly one file holds Preact, and both the boot module and the island import it.
    const withPreact: string[] = [];
    for (const url of urls) {
      if ((await read(outDir, url)).includes(PREACT_MARK)) withPreact.push(url);
    }
    assert.equal(withPreact.length, 1, `Preact in exactly one file: ${withPreact}`);
    const [preactChunk] = withPreact;
    assert.match(preactChunk, /^\/_islands\/chunk-[0-9a-f]{8}\.js$/);
    assert.ok(m.imports[m.boot].includes(preactChunk), "boot imports the Preact chunk");
    assert.ok(m.imports[m.islands._TestCounter].includes(preactChunk), "island imports it");

    // The rewritten import specifiers point at files that exist.
    for (const url of urls) {
      for (const [, ref] of (await read(outDir, url)).matchAll(/["']\.\/([^"']+\.js)["']/g)) {
        assert.ok(names.includes(ref), `${url} imports ./${ref}, which exists`);
      }
    }

    // @preact/signals made it into the island bundle (hooked into the shared Preact).
    const islandCode = await read(outDir, m.islands._TestCounter);
    assert.ok(islandCode.includes('Symbol.for("preact-signals")'));
    assert.ok(!islandCode.includes(PREACT_MARK));
    const boot = await read(outDir, m.boot);
    assert.ok(boot.includes("capstan-island") && boot.includes("import("));
    await assertBootCallsHydrate(outDir, m);
    assert.ok(!boot.includes("preact-signals"), "boot does not carry the island's code");

    // The manifest on disk is what was returned.
    const stored: IslandManifest = JSON.parse(await Deno.readTextFile(join(outDir, MANIFEST_FILE)));
    assert.deepEqual(stored, m);
    assert.match(logs.join("\n"), /built 3 files/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildIslands() skips an unchanged build and rebuilds when a source changes", async () => {
  const root = await tempProject();
  try {
    const outDir = join(root, "out");
    const first = await buildIslands({ root, outDir, islands });
    const manifestPath = join(outDir, MANIFEST_FILE);
    const before = (await Deno.stat(manifestPath)).mtime!.getTime();

    const logs: string[] = [];
    const second = await buildIslands({ root, outDir, islands, log: (l) => logs.push(l) });
    assert.deepEqual(second, first);
    assert.match(logs.join("\n"), /build skipped/);
    assert.equal((await Deno.stat(manifestPath)).mtime!.getTime(), before, "manifest untouched");

    // A missing output file forces a rebuild even with unchanged inputs.
    await Deno.remove(fileOf(outDir, first.boot));
    const third = await buildIslands({ root, outDir, islands });
    assert.equal(third.boot, first.boot, "same content, same name");
    await Deno.stat(fileOf(outDir, first.boot));

    // Editing the island renames the island file only; boot and Preact chunk keep their names.
    const src = join(root, islands._TestCounter);
    await Deno.writeTextFile(src, (await Deno.readTextFile(src)).replace("test-counter", "tc2"));
    const fourth = await buildIslands({ root, outDir, islands });
    assert.notEqual(fourth.inputHash, first.inputHash);
    assert.notEqual(fourth.islands._TestCounter, first.islands._TestCounter);
    assert.equal(fourth.boot, first.boot);
    assert.deepEqual(fourth.imports[fourth.boot], first.imports[first.boot]);
    // The old island file is gone; the new one exists.
    await assert.rejects(
      Deno.stat(fileOf(outDir, first.islands._TestCounter)),
      Deno.errors.NotFound,
    );
    assert.ok((await read(outDir, fourth.islands._TestCounter)).includes("tc2"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildIslands() can skip minifying, and boot still calls Preact's hydrate", async () => {
  const root = await tempProject();
  try {
    const outDir = join(root, "out");
    const m = await buildIslands({ root, outDir, islands, minify: false });
    const boot = await read(outDir, m.boot);
    assert.ok(boot.includes("\n  const markers = ["), "readable, unminified output");
    await assertBootCallsHydrate(outDir, m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildIslands() explains a missing island source or an unusable deno binary", async () => {
  const root = await tempProject();
  try {
    const outDir = join(root, "out");
    await assert.rejects(
      buildIslands({ root, outDir, islands: { Ghost: "islands/Ghost.tsx" } }),
      /Cannot build island "Ghost": source file islands\/Ghost.tsx does not exist/,
    );
    await assert.rejects(
      buildIslands({ root, outDir, islands, denoBin: join(root, "no-such-deno") }),
      /Cannot build islands: could not run .*no-such-deno/,
    );
    await Deno.writeTextFile(join(root, "islands/Broken.tsx"), "export default function (\n");
    await assert.rejects(
      buildIslands({ root, outDir, islands: { Broken: "islands/Broken.tsx" } }),
      /Cannot build islands: deno bundle exited with \d+:[\s\S]*Broken\.tsx/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
