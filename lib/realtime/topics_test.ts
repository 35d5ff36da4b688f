import assert from "node:assert/strict";
import {
  isValidTopic,
  orgItemTopic,
  orgTopic,
  orgTopicRole,
  parseTopic,
  type Topic,
  topicRoles,
  topics,
} from "./topics.ts";

Deno.test("isValidTopic() accepts org and user topics only", () => {
  assert.equal(isValidTopic("org:0190a1b2-c3d4:hosts.metrics"), true);
  assert.equal(isValidTopic("user:u1:inbox_2"), true);
  assert.equal(isValidTopic("team:t1:x"), false);
  assert.equal(isValidTopic("org:o1:"), false);
  assert.equal(isValidTopic("org:o1:a:b"), false);
  assert.equal(isValidTopic(`org:${"a".repeat(65)}:x`), false);
  assert.equal(isValidTopic("org:o1:x\n"), false);
  assert.deepEqual(parseTopic("org:o1:hosts"), { scope: "org", id: "o1", name: "hosts" });
  assert.equal(parseTopic("nope"), null);
});

Deno.test("topics builds the names the hub and the islands use", () => {
  assert.equal(topics.containers("o1"), "org:o1:containers");
  assert.equal(topics.hosts("o1"), "org:o1:hosts");
  assert.equal(topics.hostMetrics("o1", "h1"), "org:o1:metrics.h1");
  assert.equal(topics.fleetMetrics("o1"), "org:o1:metrics");
  assert.equal(topics.health("o1"), "org:o1:health");
  assert.equal(topics.alerts("o1"), "org:o1:alerts");
  assert.equal(topics.audit("o1"), "org:o1:audit");
  for (const build of Object.values(topics)) {
    const topic: Topic<unknown> = build("0190a1b2-c3d4", "0190a1b2-h1");
    assert.ok(isValidTopic(topic), topic);
  }
});

Deno.test("orgTopicRole() gives each defined topic its role, and none to the rest", () => {
  assert.equal(orgTopicRole("audit"), "admin");
  for (const name of ["containers", "hosts", "metrics", "metrics.h1", "health", "alerts"]) {
    assert.equal(orgTopicRole(name), "viewer", name);
  }
  for (const name of ["exec_role", "access", "hosts.h1", "audit.x", "other"]) {
    assert.equal(orgTopicRole(name), undefined, name);
  }
});

Deno.test("topicRoles() keys item topics apart and refuses a name defined twice", () => {
  assert.deepEqual(topicRoles([topics.fleetMetrics, topics.hostMetrics, topics.audit]), {
    metrics: "viewer",
    "metrics.*": "viewer",
    audit: "admin",
  });
  assert.throws(
    () => topicRoles([topics.hosts, orgTopic("hosts", "admin")]),
    /Cannot define topic "hosts" twice/,
  );
  const roles = topicRoles([orgItemTopic("apps", "member")]);
  assert.equal(orgTopicRole("apps.a1", roles), "member");
  assert.equal(orgTopicRole("apps", roles), undefined);
  assert.equal(orgTopicRole("hosts", roles), undefined);
});
