import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { fakeContainer } from "../../tests/support/containers.ts";
import { statusOf } from "../../tests/support/errors.ts";
import { Invalid } from "../errors.ts";
import { CONTAINER_ID_PREFIX, findCachedContainer } from "./container_ref.ts";

const A = "abcdef012345" + "a".repeat(52);
const B = "abcdef012345" + "b".repeat(52);
const C = "c".repeat(64);

dbTest(
  "findCachedContainer() behaviour: resolves like Docker: full id, name, unique prefix",
  async (h) => {
    const s = testServices(h);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
    const other = await s.orgs.create(SYSTEM_CTX, { slug: "other", name: "Other" });
    const host = await s.hosts.ensureLocal(org.id, "local");
    const foreign = await s.hosts.ensureLocal(other.id, "local");
    // Container C is named like a prefix of the id of "worker": the name wins, as in Docker.
    await s.hosts.applySnapshot(host, [
      fakeContainer(A, "web"),
      fakeContainer(B, "db"),
      fakeContainer(C, "dddddddddddd"),
      fakeContainer("d", "worker"),
    ]);
    await s.hosts.applySnapshot(foreign, [fakeContainer("e", "secret")]);
    const find = (ref: string, hostId = host.id, orgId = org.id) =>
      findCachedContainer(s.db, orgId, hostId, ref).then((c) => c && `${c.name} ${c.state}`);

    assert.equal(await find(A), "web running", "a full id");
    assert.equal(await find("web"), "web running", "a name");
    assert.equal(await find("/web"), "web running", "a name with Docker's leading slash");
    assert.equal(await find(B.slice(0, 13)), "db running", "a unique prefix of 13 hex digits");
    assert.equal(await find("d".repeat(12)), "dddddddddddd running", "a name before a prefix");
    assert.equal(await find("d".repeat(13)), "worker running");
    assert.equal(await find("nope"), undefined);
    assert.equal(await find(A.slice(0, 11)), undefined, "11 hex digits are not an id prefix");
    assert.equal(await find("web_"), undefined, "LIKE wildcards in names match nothing");
    assert.equal(await find("secret"), undefined, "another organization's host");
    assert.equal(await find("secret", foreign.id), undefined, "its own host, the wrong org");

    // 12 digits both A and B start with: refused like the engine refuses it, naming the field.
    const err = await findCachedContainer(s.db, org.id, host.id, A.slice(0, 12)).catch((e) => e);
    assert.ok(err instanceof Invalid);
    assert.equal(statusOf(err), 400);
    assert.equal(err.message, `Container "${A.slice(0, 12)}" is ambiguous`);
    assert.deepEqual(err.fields, {
      container: "matches more than one container; give the full id",
    });
  },
);

Deno.test("CONTAINER_ID_PREFIX behaviour: 12 to 64 lowercase hex digits, as Docker's ids", () => {
  assert.ok(CONTAINER_ID_PREFIX.test("a".repeat(12)));
  assert.ok(CONTAINER_ID_PREFIX.test("a".repeat(64)));
  assert.ok(!CONTAINER_ID_PREFIX.test("a".repeat(11)));
  assert.ok(!CONTAINER_ID_PREFIX.test("a".repeat(65)));
  assert.ok(!CONTAINER_ID_PREFIX.test("A".repeat(12)));
});
