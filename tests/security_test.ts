/**
 * Fixes from the outside review (issue 11), end to end through `app.request()` on both dialects:
 * redirects after sign-in, NUL bytes in any input, CSRF and WebSocket origins, CSP, weak
 * passwords, API tokens that mint tokens, and adding members by email.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";

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
