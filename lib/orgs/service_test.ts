import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import type { DomainError } from "../errors.ts";
import { statusOf } from "../../tests/support/errors.ts";

dbTest("orgs members: add, change role, remove, with audit rows", async (h) => {
  const s = testServices(h);
  const owner = await s.users.create({ email: "o@x.io", name: "O", password: "password-123" });
  const bob = await s.users.create({ email: "bob@x.io", name: "Bob", password: "password-123" });
  const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme", ownerId: owner.id });
  await s.orgs.addMember(SYSTEM_CTX, org, { email: "bob@x.io", role: "viewer" });
  assert.equal(await s.orgs.roleOf(org.id, bob.id), "viewer");
  await s.orgs.changeRole(SYSTEM_CTX, org, bob.id, "admin");
  assert.equal(await s.orgs.roleOf(org.id, bob.id), "admin");
  await s.orgs.removeMember(SYSTEM_CTX, org, bob.id);
  assert.equal(await s.orgs.roleOf(org.id, bob.id), undefined);
  const { rows } = await s.audit.list({ orgId: org.id, limit: 10 });
  assert.deepEqual(rows.map((r) => r.action), [
    "member.removed",
    "member.role_changed",
    "member.added",
    "org.created",
  ]);
  const changed = rows[1];
  assert.equal(changed.target_name, "bob@x.io");
  assert.deepEqual(changed.metadata, { from: "viewer", to: "admin" });
  assert.equal(changed.status, "ok");
});

dbTest("orgs keep at least one owner, and the refusal is audited as an error", async (h) => {
  const s = testServices(h);
  const owner = await s.users.create({ email: "o@x.io", name: "O", password: "password-123" });
  const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme", ownerId: owner.id });
  await assert.rejects(
    s.orgs.changeRole(SYSTEM_CTX, org, owner.id, "viewer"),
    (e: DomainError) => statusOf(e) === 409,
  );
  await assert.rejects(
    s.orgs.removeMember(SYSTEM_CTX, org, owner.id),
    (e: DomainError) => statusOf(e) === 409,
  );
  const { rows } = await s.audit.list({ orgId: org.id, status: "error", limit: 10 });
  assert.equal(rows.length, 2);
  assert.match(rows[0].error!, /at least one owner/);
});

dbTest("orgs.create() refuses a duplicate slug with 409", async (h) => {
  const s = testServices(h);
  await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
  await assert.rejects(
    s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Other" }),
    (e: DomainError) => statusOf(e) === 409,
  );
});

dbTest("removing a member revokes their tokens for that organization", async (h) => {
  const s = testServices(h);
  const owner = await s.users.create({ email: "o@x.io", name: "O", password: "password-123" });
  const bob = await s.users.create({ email: "bob@x.io", name: "Bob", password: "password-123" });
  const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme", ownerId: owner.id });
  await s.orgs.addMember(SYSTEM_CTX, org, { email: bob.email, role: "member" });
  const { token } = await s.tokens.create({
    userId: bob.id,
    orgId: org.id,
    name: "ci",
    scope: "write",
    expiresAt: null,
  });
  assert.ok(await s.tokens.resolve(token));
  await s.orgs.removeMember(SYSTEM_CTX, org, bob.id);
  assert.equal(await s.tokens.resolve(token), undefined);
});
