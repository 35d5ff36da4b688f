import assert from "node:assert/strict";
import { defineIslands, type IslandPath } from "./define.ts";
import { islands } from "./registry.ts";
import { testIslands } from "./test_islands.ts";

Deno.test("defineIslands() keeps a frozen name → path map", () => {
  const map = defineIslands({ A: "islands/A.tsx", B_2: "islands/sub/B.ts" });
  assert.deepEqual(map, { A: "islands/A.tsx", B_2: "islands/sub/B.ts" });
  assert.ok(Object.isFrozen(map));
  assert.equal(testIslands._TestCounter, "islands/_TestCounter.tsx");
  assert.ok(Object.isFrozen(testIslands));
  // The test island is registered for tests only: no build or page of the product has it.
  assert.equal(Object.hasOwn(islands, "_TestCounter"), false);
});

Deno.test("defineIslands() refuses names that cannot be file names and paths outside islands/", () => {
  assert.throws(() => defineIslands({ "bad-name": "islands/A.tsx" }), /name must match/);
  assert.throws(() => defineIslands({ "9x": "islands/A.tsx" }), /name must match/);
  for (const path of ["islands/../lib/x.tsx", "lib/A.tsx", "islands/A.js", "islands/a b.tsx"]) {
    assert.throws(
      () => defineIslands({ A: path as IslandPath }),
      /must be a \.ts\/\.tsx file under islands\//,
    );
  }
});
