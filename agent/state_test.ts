import assert from "node:assert/strict";
import { join } from "node:path";
import { agentState } from "./state.ts";
import { loadMachineId } from "./machine_id.ts";

const HOST_TOKEN = "caph_" + "b".repeat(43);

Deno.test("agentState() writes the host token atomically with mode 0600 and remembers the enrollment", async () => {
  const dir = join(await Deno.makeTempDir(), "state");
  try {
    const s = agentState(dir);
    assert.equal(await s.readToken(), undefined);
    await s.writeToken(HOST_TOKEN);
    assert.equal(await s.readToken(), HOST_TOKEN);
    assert.equal((await Deno.stat(s.tokenFile)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    await assert.rejects(s.writeToken("not a token"));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["host-token"],
      "no temp files",
    );
    const enroll = "cape_" + "c".repeat(43);
    assert.equal(await s.enrolledWith(enroll), false);
    await s.markEnrolled(enroll);
    assert.equal(await s.enrolledWith(enroll), true);
    assert.ok(!(await Deno.readTextFile(join(dir, "enrolled-with"))).includes(enroll), "hash only");
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
});

function dirname(p: string) {
  return p.slice(0, p.lastIndexOf("/"));
}

Deno.test("loadMachineId() uses the system id, else generates one once into the state dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const system = join(dir, "machine-id");
    await Deno.writeTextFile(system, "0123456789abcdef0123456789abcdef\n");
    assert.equal(await loadMachineId(system, join(dir, "s1")), "0123456789abcdef0123456789abcdef");
    const missing = join(dir, "absent");
    const a = await loadMachineId(missing, join(dir, "s2"));
    assert.match(a, /^[a-f0-9]{32}$/);
    assert.equal(await loadMachineId(missing, join(dir, "s2")), a, "stable across runs");
    // A malformed system id is not used (the hub would refuse it).
    await Deno.writeTextFile(system, "bad id!\n");
    assert.match(await loadMachineId(system, join(dir, "s3")), /^[a-f0-9]{32}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
