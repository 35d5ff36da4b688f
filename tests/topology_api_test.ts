/**
 * Topology over HTTP and the realtime hub (issue 22): who may read which graph (org members their
 * own, tokens their own org only, platform admins' sessions the whole install), the 400 naming a
 * query field, the topics' access rule, and a live patch: a container stopped on the real engine
 * arrives as a `node` patch with status down on `org:<orgId>:topology`. Both dialects.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { attachTestAgent, runTestContainer } from "./support/agent.ts";
import { dockerTestsIgnored, eventually, withDocker } from "../lib/docker/testing.ts";
import { FakeSocket } from "../lib/realtime/test_support.ts";
import { topicAccess } from "../lib/realtime/access.ts";
import { collectTopics } from "../lib/module.ts";
import { MODULES } from "../modules.ts";
import type { Principal } from "../lib/auth/principal.ts";
import type { TopologyGraph, TopologyPatch } from "../lib/topology/graph.ts";
import { applyPatches } from "../lib/topology/diff.ts";

const SUITE = "topology";

async function fixture(h: Parameters<Parameters<typeof dbTest>[1]>[0]) {
  const t = testApp(h);
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const outsider = await t.user("owner@globex.io", { org: "globex", role: "owner" });
  const admin = await t.user("root@capstan.io", { admin: true, org: "acme", role: "owner" });
  await t.services.accounts.ensureMembership(
    { actor: { type: "system", name: "test" }, ip: null },
    admin.id,
    "globex",
    "owner",
  );
  const acme = (await t.services.orgs.bySlug("acme"))!;
  const globex = (await t.services.orgs.bySlug("globex"))!;
  return { t, viewer, outsider, admin, acme, globex };
}

const principal = (u: { id: string; email: string }, more: Partial<Principal> = {}): Principal => ({
  kind: "session",
  userId: u.id,
  email: u.email,
  name: u.email,
  isAdmin: false,
  credentialId: "c",
  ...more,
});

dbTest(
  "[e2e] GET /api/v1/topology answers each caller their own graph, deny by default",
  async (h) => {
    const { t, viewer, outsider, admin, acme, globex } = await fixture(h);
    const get = async (path: string, auth: { cookie?: string; token?: string } = {}) => {
      const res = await t.request(path, auth);
      return { status: res.status, body: await res.json() };
    };

    assert.equal((await get("/api/v1/topology?org=acme")).status, 401);

    // A viewer reads their organization's graph, named or not (they belong to one).
    const mine = await get("/api/v1/topology?org=acme", { cookie: viewer.cookie });
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.topic, `org:${acme.id}:topology`);
    assert.ok(Array.isArray(mine.body.nodes) && Array.isArray(mine.body.edges));
    assert.equal(mine.body.truncated, false);
    assert.equal(typeof mine.body.version, "number");
    const implicit = await get("/api/v1/topology", { cookie: viewer.cookie });
    assert.equal(implicit.body.topic, `org:${acme.id}:topology`);

    // Another organization's graph looks missing.
    const other = await get("/api/v1/topology?org=acme", { cookie: outsider.cookie });
    assert.equal(other.status, 404);
    assert.equal((await get("/api/v1/topology?org=nope", { cookie: viewer.cookie })).status, 404);

    // The query is validated: a misspelt parameter is named.
    const typo = await get("/api/v1/topology?orgs=acme", { cookie: viewer.cookie });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error.fields?._ ?? "", /unknown field: orgs/, JSON.stringify(typo.body));

    // A platform admin's session without ?org: the whole install; with it, that organization.
    const install = await get("/api/v1/topology", { cookie: admin.cookie });
    assert.equal(install.status, 200, JSON.stringify(install.body));
    assert.equal(install.body.topic, "org:install:topology");
    const named = await get("/api/v1/topology?org=globex", { cookie: admin.cookie });
    assert.equal(named.body.topic, `org:${globex.id}:topology`);

    // A member of two organizations must name one.
    const two = await t.user("two@x.io", { org: "acme", role: "viewer" });
    await t.services.accounts.ensureMembership(
      { actor: { type: "system", name: "test" }, ip: null },
      two.id,
      "globex",
      "viewer",
    );
    const unnamed = await get("/api/v1/topology", { cookie: two.cookie });
    assert.equal(unnamed.status, 400);
    assert.ok(unnamed.body.error.fields?.org);

    // Tokens act in their own organization only, read scope is enough, and an admin's token is
    // no way to the whole install.
    const readToken = await t.token(viewer.id, "acme", "read");
    const byToken = await get("/api/v1/topology", { token: readToken });
    assert.equal(byToken.status, 200);
    assert.equal(byToken.body.topic, `org:${acme.id}:topology`);
    const adminToken = await t.token(admin.id, "acme", "read");
    assert.equal(
      (await get("/api/v1/topology", { token: adminToken })).body.topic,
      `org:${acme.id}:topology`,
    );
    assert.equal((await get("/api/v1/topology?org=globex", { token: adminToken })).status, 404);

    // The API document has it.
    const doc = await (await t.request("/api/v1/openapi.json")).json();
    assert.ok(doc.paths["/api/v1/topology"]?.get, "documented");
    assert.ok(doc.components.schemas.TopologyGraph);

    // The topics' access rule.
    const can = topicAccess(t.services.orgs, collectTopics(MODULES));
    const acmeTopic = `org:${acme.id}:topology`;
    assert.equal(await can(principal(viewer), acmeTopic), true);
    assert.equal(await can(principal(outsider), acmeTopic), false);
    assert.equal(await can(principal(viewer), "org:install:topology"), false);
    assert.equal(await can(principal(admin, { isAdmin: true }), "org:install:topology"), true);
    assert.equal(
      await can(
        principal(admin, { isAdmin: true, kind: "token", tokenOrgId: acme.id }),
        "org:install:topology",
      ),
      false,
    );
    await t.services.topology.close();
  },
);

dbTest(
  "[docker] topology: a container stopped on the engine arrives as a node patch with status down",
  async (h) => {
    const { t, viewer, acme } = await fixture(h);
    const s = t.services;
    const agent = await attachTestAgent(s, acme.id, "local");
    try {
      await withDocker(SUITE, async () => {
        const { id } = await runTestContainer(agent, SUITE, "web");
        const nodeId = `task:${id}`;
        // The cache has it running once the agent's event landed.
        await eventually(async () => {
          const g = await s.topology.graph({ kind: "org", orgId: acme.id });
          return g.nodes.find((n) => n.id === nodeId && n.status === "running");
        }, "the container's node running");

        // A viewer subscribes first, then reads the graph (the protocol of TOPOLOGY.md).
        const socket = new FakeSocket();
        const client = t.hub.connect(socket, principal(viewer));
        const topic = `org:${acme.id}:topology`;
        client.onMessage(JSON.stringify({ type: "subscribe", topic }));
        await eventually(
          () =>
            Promise.resolve(
              socket.frames().find((f) => f.type === "subscribed") ? true : undefined,
            ),
          "subscribed",
          10_000,
        );
        const res = await t.request("/api/v1/topology?org=acme", { cookie: viewer.cookie });
        const graph: TopologyGraph = await res.json();
        assert.equal(graph.nodes.find((n) => n.id === nodeId)?.status, "running");

        await agent.conn.call("container.stop", { id, timeout_s: 5 });
        const patches = () =>
          socket.frames().filter((f) => f.type === "event" && f.topic === topic)
            .map((f) => f.data as TopologyPatch);
        const down = await eventually(
          () =>
            Promise.resolve(
              patches().find((p) =>
                p.op === "node" && p.node.id === nodeId && p.node.status === "down"
              ),
            ),
          "a node patch with the container down",
          30_000,
        );
        assert.ok(down.version > graph.version);
        // Small patches, numbered on from the graph's version without a gap.
        const got = patches().filter((p) => p.version > graph.version);
        got.forEach((p, i) => assert.equal(p.version, graph.version + i + 1));
        assert.ok(got.every((p) => p.op !== "reload"));
        const applied = applyPatches(graph, got);
        assert.equal(applied.nodes.find((n) => n.id === nodeId)?.status, "down");
        client.onClose();
      });
    } finally {
      await agent.stop();
      await s.topology.close();
    }
  },
  { ignore: dockerTestsIgnored(SUITE) },
);
