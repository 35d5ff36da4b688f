import assert from "node:assert/strict";
import { join } from "node:path";
import { writeTraefikFiles } from "./traefik_files.ts";

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("writeTraefikFiles() writes one file per organization, removes those of organizations gone, leaves other files alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-traefik-" });
  try {
    // The user's own files, one of them a .yml Traefik reads too; and a leftover of ours.
    await Deno.writeTextFile(join(dir, "mine.yml"), "http: {}\n");
    await Deno.writeTextFile(join(dir, "capstan.yml.bak"), "keep\n");
    await Deno.writeTextFile(join(dir, "capstan-gone.yml"), "# an org that has no routes now\n");
    await Deno.writeTextFile(join(dir, ".capstan-o1.yml.0a1b2c.tmp"), "half a fi");
    const mine = await Deno.stat(join(dir, "mine.yml"));

    const first = await writeTraefikFiles(dir, new Map([["o1", "a: 1\n"], ["o2", "b: 2\n"]]));
    assert.deepEqual(first, {
      written: ["capstan-o1.yml", "capstan-o2.yml"],
      unchanged: [],
      removed: ["capstan-gone.yml"],
    });
    assert.deepEqual(await listing(dir), [
      "capstan-o1.yml",
      "capstan-o2.yml",
      "capstan.yml.bak",
      "mine.yml",
    ]);
    assert.equal(await Deno.readTextFile(join(dir, "capstan-o1.yml")), "a: 1\n");
    assert.equal(await Deno.readTextFile(join(dir, "mine.yml")), "http: {}\n");
    assert.equal((await Deno.stat(join(dir, "mine.yml"))).mtime?.getTime(), mine.mtime?.getTime());

    // Same content: not rewritten (the same inode); changed: replaced by a rename (a new inode).
    const before = await Deno.stat(join(dir, "capstan-o1.yml"));
    const second = await writeTraefikFiles(dir, new Map([["o1", "a: 1\n"], ["o2", "b: 3\n"]]));
    assert.deepEqual(second, {
      written: ["capstan-o2.yml"],
      unchanged: ["capstan-o1.yml"],
      removed: [],
    });
    assert.equal((await Deno.stat(join(dir, "capstan-o1.yml"))).ino, before.ino);
    const o2 = await Deno.stat(join(dir, "capstan-o2.yml"));
    const third = await writeTraefikFiles(dir, new Map([["o2", "b: 4\n"]]));
    assert.deepEqual(third, {
      written: ["capstan-o2.yml"],
      unchanged: [],
      removed: ["capstan-o1.yml"],
    });
    assert.notEqual((await Deno.stat(join(dir, "capstan-o2.yml"))).ino, o2.ino, "renamed over");
    assert.equal(await Deno.readTextFile(join(dir, "capstan-o2.yml")), "b: 4\n");

    // No routes at all: only our files go.
    await writeTraefikFiles(dir, new Map());
    assert.deepEqual(await listing(dir), ["capstan.yml.bak", "mine.yml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeTraefikFiles() never leaves a partly written file where Traefik reads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-traefik-" });
  try {
    const big = (n: number) => `# ${n}\n` + "x: '" + "y".repeat(2_000_000) + "'\n";
    await writeTraefikFiles(dir, new Map([["o1", big(0)]]));
    // A reader polling the file while it is rewritten sees one whole version or the other.
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const text = await Deno.readTextFile(join(dir, "capstan-o1.yml"));
        assert.ok(text.endsWith("'\n") && text.length > 2_000_000, "a whole file");
        seen.add(text.slice(0, text.indexOf("\n")));
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    for (let i = 1; i <= 10; i++) await writeTraefikFiles(dir, new Map([["o1", big(i)]]));
    stop = true;
    await reader;
    assert.ok(seen.size >= 1);
    assert.deepEqual(await listing(dir), ["capstan-o1.yml"], "no temporary file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
