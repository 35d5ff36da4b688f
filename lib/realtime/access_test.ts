import assert from "node:assert/strict";
import type { Principal } from "../auth/principal.ts";
import type { OrgRole } from "../db/schema.ts";
import { topicAccess } from "./access.ts";
import { orgItemTopic, topicRoles, topics } from "./topics.ts";

const user = (over: Partial<Principal> = {}): Principal => ({
  kind: "session",
  userId: "u1",
  email: "u1@example.com",
  name: "U1",
  isAdmin: false,
  credentialId: "s1",
  ...over,
});

// u1 is a viewer of o1 and an admin of o2; nobody else is anywhere.
const roles: Record<string, OrgRole> = { "o1/u1": "viewer", "o2/u1": "admin" };
const canRead = topicAccess({
  roleOf: (orgId, userId) => Promise.resolve(roles[`${orgId}/${userId}`]),
});

Deno.test("topicAccess() lets members read their organization's topics from the topic's role up", async () => {
  assert.equal(await canRead(user(), topics.hosts("o1")), true);
  assert.equal(await canRead(user(), topics.hostMetrics("o1", "h1")), true);
  assert.equal(await canRead(user(), topics.audit("o1")), false, "audit is for admins");
  assert.equal(await canRead(user(), topics.audit("o2")), true);
  assert.equal(await canRead(user(), topics.hosts("o3")), false, "not a member");
  assert.equal(await canRead(user({ isAdmin: true }), topics.audit("o3")), true, "platform admin");
  assert.equal(
    await canRead(user({ kind: "token", tokenOrgId: "o2" }), topics.hosts("o1")),
    false,
    "a token reads its own organization only",
  );
});

Deno.test("topicAccess() refuses organization topics that topics.ts does not define", async () => {
  for (const topic of ["org:o1:exec_role", "org:o1:hosts.h1", "org:o1:nothing"]) {
    assert.equal(await canRead(user({ isAdmin: true }), topic), false, topic);
  }
});

Deno.test("topicAccess() gives user topics to that user only", async () => {
  assert.equal(await canRead(user(), "user:u1:inbox"), true);
  assert.equal(await canRead(user(), "user:u2:inbox"), false);
  assert.equal(await canRead(user(), "not a topic"), false);
});

Deno.test("topicAccess() reads the roles it is given (the topics modules declare)", async () => {
  const apps = orgItemTopic<{ id: string }>("apps", "member");
  const access = topicAccess(
    { roleOf: (orgId) => Promise.resolve(orgId === "o1" ? "member" : "viewer") },
    topicRoles([apps]),
  );
  assert.equal(await access(user(), apps("o1", "a1")), true);
  assert.equal(await access(user(), apps("o2", "a1")), false, "a viewer");
  assert.equal(await access(user(), topics.hosts("o1")), false, "not among the roles given");
});
