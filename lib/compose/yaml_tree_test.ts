import assert from "node:assert/strict";
import { type MapNode, readYaml, type Tree } from "./yaml_tree.ts";

/** The tree as plain data, for comparing. */
function plain(t: Tree): unknown {
  if (t.kind === "scalar") return t.value;
  if (t.kind === "seq") return t.items.map(plain);
  return Object.fromEntries([...t.entries].map(([k, e]) => [k, plain(e.value)]));
}

Deno.test("readYaml() behaviour: nodes know their line and column", () => {
  const { root } = readYaml("a:\n  b: [1, two]\n  c:\n    - x\n");
  const a = (root as MapNode).entries.get("a")!;
  assert.deepEqual(a.keyLoc, { line: 1, column: 1 });
  const b = (a.value as MapNode).entries.get("b")!;
  assert.deepEqual(b.keyLoc, { line: 2, column: 3 });
  assert.deepEqual(b.value.kind === "seq" && b.value.items[1].loc, { line: 2, column: 10 });
  assert.deepEqual(plain(root!), { a: { b: [1, "two"], c: ["x"] } });
});

Deno.test("readYaml() behaviour: YAML 1.2 scalars, and the text as written", () => {
  const { root } = readYaml("a: yes\nb: 1.10\nc: 0x1F\nd: '1.10'\ne:\n");
  assert.deepEqual(plain(root!), { a: "yes", b: 1.1, c: 31, d: "1.10", e: null });
  const text = (k: string) => {
    const v = (root as MapNode).entries.get(k)!.value;
    return v.kind === "scalar" ? v.text : undefined;
  };
  assert.equal(text("b"), "1.10");
  assert.equal(text("c"), "0x1F");
});

Deno.test("readYaml() behaviour: merge keys, own keys first in value, merged first in order", () => {
  const { root, problems } = readYaml(
    "x-a: &a {k: a, only_a: 1}\nx-b: &b {k: b, only_b: 2}\n" +
      "one:\n  <<: *a\n  k: own\ntwo:\n  <<: [*a, *b]\n",
  );
  assert.deepEqual(problems, []);
  const r = plain(root!) as Record<string, Record<string, unknown>>;
  assert.deepEqual(r.one, { only_a: 1, k: "own" });
  assert.deepEqual(r.two, { k: "a", only_a: 1, only_b: 2 });
  // Merged keys keep the place they are written at, in the anchor.
  const one = (root as MapNode).entries.get("one")!.value as MapNode;
  assert.deepEqual(one.entries.get("only_a")!.keyLoc, { line: 1, column: 16 });
});

Deno.test("readYaml() behaviour: skipped top-level keys still serve their anchors", () => {
  const { root } = readYaml("x-env: &env {A: 1}\nweb:\n  environment: *env\n", {
    skipTopLevel: (k) => k.startsWith("x-"),
  });
  assert.deepEqual(plain(root!), { web: { environment: { A: 1 } } });
});

Deno.test("readYaml() behaviour: errors come back with their line", () => {
  assert.deepEqual(readYaml("a: 1\nb: 2\na: 3\n").problems, [
    { loc: { line: 3, column: 1 }, message: "Map keys must be unique", kind: "invalid" },
  ]);
  assert.equal(readYaml("a: *nope\n").problems[0].kind, "invalid");
  assert.equal(readYaml("a: !custom x\n").problems[0].kind, "unsupported");
  assert.deepEqual(readYaml("a: &x [1, 2]\nb: !!str 5\n").problems, []);
});

Deno.test("readYaml() behaviour: the node budget stops alias bombs", () => {
  let text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (let i = 1; i < 9; i++) {
    text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
  }
  const r = readYaml(text, { maxNodes: 10_000 });
  assert.equal(r.root, undefined);
  assert.match(r.problems[0].message, /more than 10000 nodes/);
});
