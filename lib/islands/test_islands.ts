/**
 * The islands of the islands layer's own tests, registered apart from the product's
 * (lib/islands/registry.ts) so no build or page ever ships them.
 */
import { defineIslands } from "./define.ts";
import { islandsOf } from "./island.tsx";

/** Test island name → its path in a test project (the build test copies the file there). */
export const testIslands = defineIslands({
  _TestCounter: "islands/_TestCounter.tsx",
});

/** Where the test islands' sources are, relative to the project root. */
export const TEST_ISLAND_SOURCES: Readonly<Record<keyof typeof testIslands, string>> = {
  _TestCounter: "lib/islands/testdata/_TestCounter.tsx",
};

/** `island()` for test islands. */
export const testIsland = islandsOf(testIslands, "lib/islands/test_islands.ts");
