/**
 * DESIGN §2: the agent imports only lib/protocol, lib/docker, lib/net, lib/log, lib/util and the
 * release format (lib/release_format), plus the build failure classes (lib/builds/failure.ts, a leaf
 * module the builders throw) — never lib/db, a feature folder or routes — so it stays
 * small and runs without the hub's code. Checked over every file the agent reaches, following
 * imports through the allowed folders too, so an allowed module cannot pull in a forbidden one.
 * Tests of the agent (`*_test.ts`) may use hub code to drive it and are not walked.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where agent code may import from, relative to the repository root. */
const ALLOWED = [
  "agent/",
  "lib/protocol/",
  "lib/docker/",
  "lib/net/",
  "lib/log.ts",
  "lib/util/",
  "lib/release_format/",
  // The build's source rules, failure classes and key fingerprints, shared with the hub; not the
  // rest of lib/builds/ (the hub's module).
  "lib/builds/failure.ts",
  "lib/builds/source.ts",
  "lib/builds/host_key.ts",
];

/** Imports that break the rule and are being moved; empty since the outbound guard moved to lib/net. */
const PENDING_MOVES = new Set<string>([]);

const SPECIFIER = new RegExp(
  [
    // import … from "x", import type … from "x", export … from "x" (over several lines too)
    String.raw`(?:^|[\s;])(?:import|export)\b[^;"'\x60]*?\bfrom\s*["']([^"']+)["']`,
    // import("x")
    String.raw`\bimport\s*\(\s*["']([^"']+)["']\s*\)`,
    // import "x"
    String.raw`(?:^|[\s;])import\s*["']([^"']+)["']`,
  ].join("|"),
  "g",
);

/** The module specifiers a source text imports or re-exports. */
export function importsOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The agent's own files, tests left out (repository-relative paths). */
async function agentFiles(dir = join(ROOT, "agent")): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await agentFiles(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push(relative(ROOT, path));
    }
  }
  return out;
}

/** Every repository file the agent reaches, each with one file that imports it. */
async function reachable(): Promise<Map<string, string>> {
  const from = new Map<string, string>();
  const todo = await agentFiles();
  for (const f of todo) from.set(f, "(agent)");
  while (todo.length) {
    const file = todo.pop()!;
    const source = await Deno.readTextFile(join(ROOT, file));
    for (const spec of importsOf(source)) {
      if (!spec.startsWith(".")) continue; // npm: and node: packages are not folders of ours
      const target = normalize(join(dirname(file), spec));
      if (from.has(target)) continue;
      from.set(target, file);
      // Forbidden files are reported, not followed: what they import is beside the point.
      if (ALLOWED.some((a) => target.startsWith(a))) todo.push(target);
    }
  }
  return from;
}

Deno.test("importsOf() finds static, type, multi-line, re-export, side-effect and dynamic imports", () => {
  const source = [
    'import a from "./a.ts";',
    'import type { B } from "../b.ts";',
    "import {\n  c,\n  d,\n} from './c.ts';",
    'export { e } from "./e.ts";',
    'import "./side.ts";',
    'const f = await import("./f.ts");',
    '// a "from" in a comment: import nothing from here',
  ].join("\n");
  assert.deepEqual(importsOf(source), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./e.ts",
    "./side.ts",
    "./f.ts",
  ]);
});

Deno.test("the agent imports only lib/protocol, lib/docker, lib/net, lib/log, lib/util and lib/release_format", async () => {
  const from = await reachable();
  const forbidden = [...from].filter(([file]) => !ALLOWED.some((a) => file.startsWith(a)));
  const unexpected = forbidden.filter(([file]) => !PENDING_MOVES.has(file));
  assert.deepEqual(
    unexpected.map(([file, by]) => `${by} imports ${file}`),
    [],
    "the agent must not import lib/db, a feature folder or routes (DESIGN §2)",
  );
  for (const moved of PENDING_MOVES) {
    assert.ok(
      from.has(moved),
      `${moved} is no longer imported by the agent: delete it from PENDING_MOVES`,
    );
  }
});

Deno.test("every file the agent reaches imports zod as a namespace, so the bundle leaves out what it never calls", async () => {
  // `import { z } from "zod"` makes the bundler keep zod's whole namespace object: every locale,
  // the JSON-schema converters and more, some 350 KB of the agent bundle and ~1 MB of its V8 heap
  // (issue 20). `import * as z from "zod"` is read property by property and shaken. One file with
  // the named form is enough to bring it all back.
  const from = await reachable();
  const named = [];
  for (const file of from.keys()) {
    if (!ALLOWED.some((a) => file.startsWith(a))) continue;
    const source = await Deno.readTextFile(join(ROOT, file));
    if (
      /\bimport\s+(?:type\s+)?\{[^}]*\}\s*from\s*["'](?:npm:)?zod(?:@[^"'/]*)?["']/.test(source)
    ) {
      named.push(file);
    }
  }
  assert.deepEqual(named, [], 'use `import * as z from "zod"` in these files');
});

Deno.test("no file the agent reaches imports a node: module statically", async () => {
  // Any `node:` module (or a CommonJS require of one, which the bundler turns into node:module's
  // createRequire) makes Deno start its Node compatibility layer: ~2.5 MB of V8 heap and ~3 MB of
  // the runtime's code resident in every agent, measured at 5.6 MB of RSS in all (issue 20). Rare
  // operations may load one when they run, with `await import("node:…")`.
  const from = await reachable();
  const found = [];
  for (const file of from.keys()) {
    if (!ALLOWED.some((a) => file.startsWith(a))) continue;
    const source = await Deno.readTextFile(join(ROOT, file));
    const statics = importsOf(source.replace(/\bimport\s*\(\s*["'][^"']+["']\s*\)/g, ""));
    if (statics.some((s) => s.startsWith("node:")) || /\brequire\s*\(/.test(source)) {
      found.push(file);
    }
  }
  assert.deepEqual(found, [], "use agent/path.ts, WebCrypto, or a dynamic import in the operation");
});
