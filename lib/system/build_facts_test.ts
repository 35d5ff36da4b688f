import assert from "node:assert/strict";
import { buildFacts } from "./build_facts.ts";
import { BUILT_VERSION } from "../../agent/version.ts";

Deno.test("buildFacts() behaviour: the released version, this checkout's commit and date, the license or 'not declared'", async () => {
  const facts = await buildFacts();
  assert.equal(facts.version, BUILT_VERSION);
  // Tests run from a git checkout (CI clones main): a real commit and an ISO date.
  assert.match(facts.commit, /^[0-9a-f]{12}$/);
  assert.ok(!Number.isNaN(Date.parse(facts.date)), facts.date);
  assert.ok(facts.license.length > 0);
  assert.equal(await buildFacts(), facts, "read once");
});
