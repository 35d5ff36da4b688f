import assert from "node:assert/strict";
import { interpolate } from "./interpolate.ts";

Deno.test("interpolate() behaviour: defaults are used, every variable being unset", () => {
  assert.deepEqual(interpolate("nginx:${TAG:-1.25}"), { value: "nginx:1.25", unset: [] });
  assert.deepEqual(interpolate("${A-x}/${B:+y}/${C+z}"), { value: "x//", unset: [] });
  assert.deepEqual(interpolate("https://${DOMAIN:-${FALLBACK:-example.com}}/"), {
    value: "https://example.com/",
    unset: [],
  });
  assert.deepEqual(interpolate("${A:-}"), { value: "", unset: [] });
});

Deno.test("interpolate() behaviour: $$ is a dollar and a lone $ stays", () => {
  assert.deepEqual(interpolate("$$5 and $$HOME and ${X:-$$}"), {
    value: "$5 and $HOME and $",
    unset: [],
  });
  assert.deepEqual(interpolate("costs 5$ or $ 6"), { value: "costs 5$ or $ 6", unset: [] });
});

Deno.test("interpolate() behaviour: variables without a default are named, once each place", () => {
  assert.deepEqual(interpolate("${USER}:$PASS@${HOST:?needed}/$1").unset, ["USER", "PASS", "HOST"]);
  assert.deepEqual(interpolate("${A:-${B}}").unset, ["B"]);
});

Deno.test("interpolate() behaviour: broken syntax is an error, not a guess", () => {
  assert.match(interpolate("${UNCLOSED").error ?? "", /not closed/);
  assert.match(interpolate("${1BAD}").error ?? "", /variable name/);
  assert.match(interpolate("${A/x/y}").error ?? "", /not a known form/);
});
