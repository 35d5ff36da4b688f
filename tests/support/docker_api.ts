/**
 * Helpers for tests of the Docker resource API and pages: an organization with one user per
 * role, an in-process agent on the real engine attached as its host, and polling of the
 * container cache (which events update asynchronously).
 */
import assert from "node:assert/strict";
import type { DbHandle } from "../../lib/db/mod.ts";
import type { AppOptions } from "../../lib/http/app.ts";
import { cleanupSuite, testLabels } from "../../lib/docker/testing.ts";
import { testApp } from "./app.ts";
import { attachTestAgent, type TestAgent } from "./agent.ts";

/**
 * An org "acme" with owner, admin, member and viewer sessions and a live local host; `env` adds
 * configuration variables (e.g. CAPSTAN_ALLOW_PRIVATE_TARGETS for a loopback webhook receiver).
 */
export async function dockerFixture(
  h: DbHandle,
  suite: string,
  options?: AppOptions,
  env?: Record<string, string>,
) {
  const t = testApp(h, undefined, options, env);
  const users = {
    owner: await t.user("owner@acme.io", { org: "acme", role: "owner" }),
    admin: await t.user("admin@acme.io", { org: "acme", role: "admin" }),
    member: await t.user("member@acme.io", { org: "acme", role: "member" }),
    viewer: await t.user("viewer@acme.io", { org: "acme", role: "viewer" }),
  };
  const org = (await t.services.orgs.bySlug("acme"))!;
  const agent: TestAgent = await attachTestAgent(t.services, org.id);
  const hostId = agent.host.id;
  const api = `/api/v1/orgs/acme/hosts/${hostId}`;

  /** JSON request as a user; returns status and parsed body. */
  async function call(
    who: keyof typeof users,
    method: string,
    path: string,
    json?: unknown,
    // deno-lint-ignore no-explicit-any
  ): Promise<{ status: number; body: any }> {
    const res = await t.request(path, { method, cookie: users[who].cookie, json });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // NDJSON and empty bodies stay text.
    }
    return { status: res.status, body };
  }

  /** Polls the cross-host list (the cache) until `check` accepts the container named `name`. */
  async function waitForListed(
    name: string,
    check: (c: { state: string } | undefined) => boolean,
    what: string,
    ms = 15_000,
  ) {
    const until = Date.now() + ms;
    let last: unknown;
    while (Date.now() < until) {
      const r = await call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?q=${encodeURIComponent(name)}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const c = r.body.items.find((i: { name: string }) => i.name === name);
      last = c;
      if (check(c)) return c;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `timed out waiting for ${name} to be ${what}; last seen ${JSON.stringify(last)}`,
    );
  }

  /** The audit rows of an action in the org, newest first. */
  async function auditRows(action: string) {
    return (await t.services.audit.list({ orgId: org.id, action, limit: 100 })).rows;
  }

  /**
   * Docker operations the hub sent to the agent (to prove none were sent). The hub's own
   * `health.sync` after connecting is not a user's request and would race the counts.
   */
  const opsSent = () =>
    agent.sent.filter((m) => m.t === "call" && m.op !== "health.sync").map((m) => m.op!);

  /** Adopts the engine's swarm as the cluster, the local host its node, as a platform admin. */
  async function adoptCluster() {
    const root = await t.user("cluster-root@x.io", { admin: true });
    const res = await t.request("/api/v1/cluster", {
      method: "POST",
      cookie: root.cookie,
      json: { host_id: hostId, advertise_addr: "127.0.0.1", adopt: true },
    });
    assert.equal(res.status, 201, await res.text());
  }

  async function close() {
    await agent.stop().catch(() => {});
    try {
      await cleanupSuite(agent.docker, suite);
    } finally {
      agent.docker.close();
    }
  }

  return {
    t,
    users,
    org,
    agent,
    hostId,
    api,
    labels: testLabels(suite),
    call,
    waitForListed,
    auditRows,
    opsSent,
    adoptCluster,
    close,
  };
}

/** Commits a container to a new image labelled for the suite (the client has no commit call). */
export async function commitImage(
  socketPath: string,
  container: string,
  repo: string,
  tag: string,
  labels: Record<string, string>,
): Promise<void> {
  const http = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    const qs = new URLSearchParams({ container, repo, tag });
    for (const [k, v] of Object.entries(labels)) qs.append("changes", `LABEL ${k}=${v}`);
    const res = await fetch(`http://docker/v1.41/commit?${qs}`, { method: "POST", client: http });
    const text = await res.text();
    assert.equal(res.status, 201, text);
  } finally {
    http.close();
  }
}
