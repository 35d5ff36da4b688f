import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";

dbTest(
  "[e2e] members API: invite and accept, change role, remove; viewers read only",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
    const viewer = await t.user("viewer@x.io", { org: "acme", role: "viewer" });
    const newbie = await t.user("new@x.io");
    // Adding by email is an invitation; the invitee joins by accepting it.
    const add = await t.request("/api/v1/orgs/acme/members", {
      method: "POST",
      cookie: owner.cookie,
      json: { email: "new@x.io", role: "member" },
    });
    assert.equal(add.status, 202);
    await add.body?.cancel();
    const accept = await t.request("/api/v1/me/invitations/acme/accept", {
      method: "POST",
      cookie: newbie.cookie,
    });
    assert.equal(accept.status, 200);
    const added = await accept.json();
    assert.equal(added.role, "member");
    const list = await (await t.request("/api/v1/orgs/acme/members", { cookie: viewer.cookie }))
      .json();
    assert.deepEqual(list.items.map((m: { email: string }) => m.email), [
      "new@x.io",
      "owner@x.io",
      "viewer@x.io",
    ]);
    const denied = await t.request(`/api/v1/orgs/acme/members/${added.user_id}`, {
      method: "PATCH",
      cookie: viewer.cookie,
      json: { role: "admin" },
    });
    assert.equal(denied.status, 403);
    const patched = await t.request(`/api/v1/orgs/acme/members/${added.user_id}`, {
      method: "PATCH",
      cookie: owner.cookie,
      json: { role: "admin" },
    });
    assert.equal((await patched.json()).role, "admin");
    const del = await t.request(`/api/v1/orgs/acme/members/${added.user_id}`, {
      method: "DELETE",
      cookie: owner.cookie,
    });
    assert.equal(del.status, 204);
    const audit =
      await (await t.request("/api/v1/orgs/acme/audit?action=member", { cookie: owner.cookie }))
        .json();
    assert.deepEqual(audit.items.map((e: { action: string }) => e.action).slice(0, 3), [
      "member.removed",
      "member.role_changed",
      "member.added",
    ]);
    assert.equal(audit.items[0].actor_name, "owner@x.io");
  },
);

dbTest("[e2e] admins cannot grant ownership; only owners can", async (h) => {
  const t = testApp(h);
  await t.user("owner@x.io", { org: "acme", role: "owner" });
  const admin = await t.user("admin@x.io", { org: "acme", role: "admin" });
  await t.user("m@x.io");
  const r = await t.request("/api/v1/orgs/acme/members", {
    method: "POST",
    cookie: admin.cookie,
    json: { email: "m@x.io", role: "owner" },
  });
  assert.equal(r.status, 403);
});

dbTest("[e2e] invalid input gets 400 naming each field; malformed JSON gets 400", async (h) => {
  const t = testApp(h);
  const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
  const r = await t.request("/api/v1/orgs/acme/members", {
    method: "POST",
    cookie: owner.cookie,
    json: { email: "not-an-email", role: "god" },
  });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.error.code, "validation");
  assert.ok(body.error.fields.email);
  assert.ok(body.error.fields.role);
  const bad = await t.request("/api/v1/tokens", {
    method: "POST",
    cookie: owner.cookie,
    body: "{oops",
    headers: { "content-type": "application/json" },
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code !== undefined, true);
});

dbTest("[e2e] request bodies over 1 MiB get 413", async (h) => {
  const t = testApp(h);
  const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
  const big = "x".repeat(1024 * 1024 + 1);
  const r = await t.request("/api/v1/tokens", {
    method: "POST",
    cookie: owner.cookie,
    body: big,
    headers: { "content-type": "application/json" },
  });
  assert.equal(r.status, 413);
  assert.equal((await r.json()).error.code, "payload_too_large");
  const chunked = new ReadableStream({
    start(c) {
      for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("y".repeat(100_000)));
      c.close();
    },
  });
  const r2 = await t.request("/api/v1/tokens", {
    method: "POST",
    cookie: owner.cookie,
    body: chunked,
    headers: { "content-type": "application/json" },
  });
  assert.equal(r2.status, 413);
});

dbTest(
  "[e2e] tokens: shown once, bearer works, read scope cannot write, query-string tokens refused, revoke",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
    const created = await t.request("/api/v1/tokens", {
      method: "POST",
      cookie: owner.cookie,
      json: { name: "ci", org: "acme", scope: "read", expires_days: 30 },
    });
    assert.equal(created.status, 201);
    const { token, record } = await created.json();
    assert.match(token, /^cap_/);
    const listed = await (await t.request("/api/v1/tokens", { cookie: owner.cookie })).json();
    assert.equal(listed.items.length, 1);
    assert.ok(!JSON.stringify(listed).includes(token), "the value is never listed");
    const me = await t.request("/api/v1/me", { token });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).via, "token");
    const write = await t.request("/api/v1/orgs/acme/members", {
      method: "POST",
      token,
      json: { email: "owner@x.io", role: "viewer" },
    });
    assert.equal(write.status, 403);
    const inQuery = await t.request(`/api/v1/me?access_token=${token}`);
    assert.equal(inQuery.status, 400);
    assert.equal((await inQuery.json()).error.code, "token_in_query");
    const sneaky = await t.request(`/api/v1/me?q=${token}`);
    assert.equal(sneaky.status, 400);
    assert.equal(
      (await t.request(`/api/v1/tokens/${record.id}`, { method: "DELETE", cookie: owner.cookie }))
        .status,
      204,
    );
    const after = await t.request("/api/v1/me", { token });
    assert.equal(after.status, 401);
    assert.equal((await after.json()).error.code, "invalid_token");
    const audit =
      await (await t.request("/api/v1/orgs/acme/audit?target=ci", { cookie: owner.cookie })).json();
    assert.deepEqual(audit.items.map((e: { action: string }) => e.action), [
      "token.revoked",
      "token.created",
    ]);
    assert.ok(!JSON.stringify(audit).includes(token));
  },
);

dbTest("[e2e] a token only reaches its own organization", async (h) => {
  const t = testApp(h);
  const u = await t.user("u@x.io", { org: "acme", role: "owner" });
  await t.services.accounts.ensureMembership(
    { actor: { type: "system" } },
    u.id,
    "globex",
    "owner",
  );
  const token = await t.token(u.id, "acme", "read");
  assert.equal((await t.request("/api/v1/orgs/acme", { token })).status, 200);
  assert.equal((await t.request("/api/v1/orgs/globex", { token })).status, 404);
  const orgs = await (await t.request("/api/v1/orgs", { token })).json();
  assert.deepEqual(orgs.items.map((o: { slug: string }) => o.slug), ["acme"]);
});

dbTest("[e2e] cookie-authenticated writes need a same-origin Origin (CSRF)", async (h) => {
  const t = testApp(h);
  const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
  const body = { name: "x", org: "acme", scope: "read" };
  const evil = await t.request("/api/v1/tokens", {
    method: "POST",
    cookie: owner.cookie,
    json: body,
    headers: { origin: "https://evil.example" },
  });
  assert.equal(evil.status, 403);
  const none = await t.app.request("http://hub.test/api/v1/tokens", {
    method: "POST",
    headers: { cookie: owner.cookie, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(none.status, 403, "no Origin, no Sec-Fetch-Site, no Referer: refused");
  const ok = await t.request("/api/v1/tokens", {
    method: "POST",
    cookie: owner.cookie,
    json: body,
  });
  assert.equal(ok.status, 201);
});

dbTest("[e2e] password change over the API ends other sessions", async (h) => {
  const t = testApp(h);
  const u = await t.user("u@x.io", { org: "acme" });
  const { sessionId } = await t.services.accounts.signIn(
    { actor: { type: "anonymous" } },
    "u@x.io",
    u.password,
  );
  const other = `capstan_session=${sessionId}`;
  const r = await t.request("/api/v1/me/password", {
    method: "POST",
    cookie: u.cookie,
    json: { current: u.password, next: "a-brand-new-password" },
  });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).ended_sessions, 1);
  assert.equal((await t.request("/api/v1/me", { cookie: u.cookie })).status, 200);
  assert.equal((await t.request("/api/v1/me", { cookie: other })).status, 401);
});

dbTest("[e2e] /healthz and the OpenAPI document are public", async (h) => {
  const t = testApp(h);
  const health = await t.request("/healthz");
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  const doc = await (await t.request("/api/v1/openapi.json")).json();
  assert.equal(doc.openapi, "3.1.0");
  for (
    const p of [
      "/api/v1/orgs/{org}/audit",
      "/api/v1/tokens",
      "/api/v1/orgs/{org}/members",
      "/api/v1/orgs/{org}/members/{userId}",
    ]
  ) {
    assert.ok(doc.paths[p], `documents ${p}`);
  }
  assert.ok(
    doc.paths["/api/v1/orgs/{org}/audit"].get.parameters.some((p: { name: string }) =>
      p.name === "status"
    ),
  );
  // The old path stays documented for one release, marked deprecated, naming its successor.
  assert.equal(doc.paths["/api/v1/audit"].get.deprecated, true);
  assert.match(doc.paths["/api/v1/audit"].get.description, /\/api\/v1\/orgs\/\{org\}\/audit/);
  assert.ok(
    doc.paths["/api/v1/audit"].get.parameters.some((p: { name: string }) => p.name === "status"),
  );
});
