/**
 * Fixes from the outside review (issue 11), end to end through `app.request()` on both dialects:
 * redirects after sign-in, NUL bytes in any input, CSRF and WebSocket origins, CSP, weak
 * passwords, API tokens that mint tokens, and adding members by email.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { declaredRoutes } from "../lib/http/policy.ts";

/** A form POST as a browser sends it. */
function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

dbTest("[e2e] sign-in never redirects to another host through dot segments in next=", async (h) => {
  const t = testApp(h);
  const u = await t.user("gus@example.com");
  for (const next of ["/.//evil.example", "/..//evil.example", "/a/..//evil.example/x"]) {
    const login = await t.request(
      "/login",
      form({ email: u.email, password: u.password, next }),
    );
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/", next);
    const already = await t.request(`/login?next=${encodeURIComponent(next)}`, {
      cookie: u.cookie,
    });
    await already.body?.cancel();
    assert.equal(already.headers.get("location"), "/", next);
  }
});

/** Every declared route, with `:params` filled by `value` (`:org` stays the caller's organization). */
function routesWith(value: string) {
  return declaredRoutes.map((r) => ({
    route: `${r.method} ${r.path}`,
    method: r.method,
    hasParams: /:(?!org\b)\w+/.test(r.path),
    path: r.path.replace(/:org\b/g, "acme").replace(/:(\w+)(\{[^}]*\})?/g, value),
  }));
}

dbTest(
  "[e2e] a NUL character in a path, query, JSON body or form answers 400 on every route",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    // A fresh session per request: the walk also posts to /logout and /account/password.
    const session = async () => `capstan_session=${await t.services.sessions.create(admin.id, {})}`;
    const fields = {
      name: "a\0b",
      email: "a\0@x.io",
      org: "acme",
      role: "member",
      scope: "read",
      password: "pass\0word-long",
      token: "x\0",
    };
    const problems: string[] = [];
    let sent = 0;
    const expect400 = async (what: string, res: Response) => {
      sent++;
      const body = await res.text();
      if (res.status !== 400) problems.push(`${what} → ${res.status} ${body.slice(0, 120)}`);
    };
    for (const r of routesWith("x%00y")) {
      if (r.hasParams) {
        await expect400(
          `${r.route} (path)`,
          await t.request(r.path, {
            method: r.method,
            cookie: await session(),
            ...(r.method === "GET" ? {} : { json: {} }),
          }),
        );
      }
    }
    for (const r of routesWith("01900000-0000-7000-8000-000000000000")) {
      await expect400(
        `${r.route} (query)`,
        await t.request(`${r.path}?org=acme&name=a%00b&q=%00`, {
          method: r.method,
          cookie: await session(),
          ...(r.method === "GET" ? {} : { json: {} }),
        }),
      );
      if (r.method === "GET") continue;
      await expect400(
        `${r.route} (JSON)`,
        await t.request(r.path, { method: r.method, cookie: await session(), json: fields }),
      );
      await expect400(
        `${r.route} (form)`,
        await t.request(r.path, {
          method: r.method,
          cookie: await session(),
          body: new URLSearchParams(fields),
        }),
      );
    }
    assert.ok(sent > 150, `walked only ${sent} requests`);
    assert.deepEqual(problems, []);
    // The answer names the field, so a form or script can say what to fix.
    const res = await t.request("/api/v1/orgs/acme/members", {
      method: "POST",
      cookie: admin.cookie,
      json: { email: "a\0@x.io", role: "member" },
    });
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error.fields, { email: "must not contain NUL characters" });
  },
);
