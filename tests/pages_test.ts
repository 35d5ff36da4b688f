/**
 * The dashboard pages end to end through `app.request()`: setup, sign-in and sign-out, the
 * members and tokens forms (PRG redirects, audit rows), theme cookie, open-redirect refusal,
 * form re-rendering, and which pages ship JavaScript.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { builtIslands } from "./support/islands.ts";
import { testApp } from "./support/app.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const islands = builtIslands;

async function pagesApp(h: DbHandle) {
  const { manifest, dir } = await islands();
  return testApp(h, undefined, { islands: manifest, islandsDir: dir });
}

/** A form POST as a browser sends it. */
function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

function setCookie(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

function cookieValue(res: Response, name: string): string {
  const c = setCookie(res, name);
  assert.ok(c, `response sets ${name}`);
  return c.split(";")[0];
}

const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;

dbTest(
  "[e2e] pages: setup creates the admin and org once, signs in, then /setup is gone",
  async (h) => {
    const t = await pagesApp(h);
    const token = (await t.services.accounts.issueSetupToken())!;
    assert.equal((await t.request("/setup?token=wrong")).status, 404);
    assert.equal((await t.request("/setup")).status, 404);

    const page = await t.request(`/setup?token=${token}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(`<input type="hidden" name="token" value="${token}"`));
    assert.match(html, /<label for="f-email">Email<\/label>/);

    const fields = {
      token,
      name: "Ada",
      email: "ada@example.com",
      password: "correct-horse-battery",
      confirm: "correct-horse-battery",
      org_name: "Acme Inc.",
      org_slug: "acme",
    };
    // A mismatch re-renders with what was typed (never the passwords) and does not spend the token.
    const bad = await t.request(
      "/setup",
      form({ ...fields, confirm: "something-else", org_slug: "Bad Slug!" }),
    );
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /value="ada@example.com"/);
    assert.match(badHtml, /Does not match the password/);
    assert.match(badHtml, /Must be 1-40 lowercase letters/);
    assert.ok(!badHtml.includes("correct-horse-battery"), "passwords are not echoed");
    assert.ok(await t.services.accounts.setupTokenValid(token));

    const ok = await t.request("/setup", form(fields));
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/o/acme?ok=setup_done");
    const session = cookieValue(ok, "capstan_session");
    const dash = await t.request("/o/acme?ok=setup_done", { cookie: session });
    assert.equal(dash.status, 200);
    const dashHtml = await dash.text();
    assert.match(dashHtml, /No hosts yet/);
    assert.match(dashHtml, /Welcome to Capstan/);
    const admin = await t.services.users.byEmail("ada@example.com");
    assert.equal(admin?.is_admin, 1);

    assert.equal((await t.request("/setup", form(fields))).status, 404, "token is single-use");
    assert.equal((await t.request(`/setup?token=${token}`)).status, 404, "setup is closed");
  },
);

dbTest(
  "[e2e] pages: sign-in sets an HttpOnly Lax cookie; a failure is shown and audited",
  async (h) => {
    const t = await pagesApp(h);
    await t.user("bob@example.com", { org: "acme", role: "member" });

    const login = await t.request("/login?next=/o/acme/members");
    const loginHtml = await login.text();
    assert.match(loginHtml, /<input type="hidden" name="next" value="\/o\/acme\/members"/);
    assert.equal(count(loginHtml, /<script/g), 0, "the sign-in page ships no JavaScript");

    const wrong = await t.request(
      "/login",
      form({ email: "bob@example.com", password: "nope-nope-nope", next: "/" }),
    );
    assert.equal(wrong.status, 401);
    const wrongHtml = await wrong.text();
    assert.match(wrongHtml, /Email or password is wrong/);
    assert.match(wrongHtml, /value="bob@example.com"/);
    assert.equal(setCookie(wrong, "capstan_session"), undefined);
    const failures = await t.services.audit.list({
      action: "auth.sign_in",
      status: "error",
      limit: 5,
    });
    assert.equal(failures.rows.length, 1);
    assert.equal(failures.rows[0].actor_name, "bob@example.com");

    const ok = await t.request(
      "/login",
      form({
        email: "bob@example.com",
        password: "password-bob@example.com",
        next: "/o/acme/members",
      }),
    );
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/o/acme/members");
    const cookie = setCookie(ok, "capstan_session")!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, /Secure/, "plain http: no Secure flag");
    const members = await t.request("/o/acme/members", { cookie: cookie.split(";")[0] });
    assert.equal(members.status, 200);
  },
);

dbTest("[e2e] pages: sign-out ends the session and the old cookie stops working", async (h) => {
  const t = await pagesApp(h);
  const u = await t.user("carol@example.com", { org: "acme", role: "viewer" });
  assert.equal((await t.request("/account", { cookie: u.cookie })).status, 200);
  const out = await t.request("/logout", { ...form({}), cookie: u.cookie });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get("location"), "/login?ok=signed_out");
  assert.match(setCookie(out, "capstan_session")!, /Max-Age=0/);
  const after = await t.request("/account", { cookie: u.cookie });
  assert.equal(after.status, 303);
  assert.equal(after.headers.get("location"), "/login?next=%2Faccount");
  const signedOut = await (await t.request("/login?ok=signed_out")).text();
  assert.match(signedOut, /You are signed out/);
  // Without a session the form POST is a 401 page with a way to sign in.
  const anon = await t.request("/logout", form({}));
  assert.equal(anon.status, 401);
  assert.match(await anon.text(), /href="\/login"/);
});

dbTest(
  "[e2e] pages: pages ship one module script, only for the live bell and their islands",
  async (h) => {
    const t = await pagesApp(h);
    const u = await t.user("dora@example.com", { org: "acme", role: "owner" });
    for (const path of ["/o/acme", "/o/acme/members", "/account", "/account/tokens", "/docs/api"]) {
      const html = await (await t.request(path, { cookie: u.cookie })).text();
      // The notification bell is the only live part of these pages: one island, one script.
      const islandsOnPage = [...html.matchAll(/<capstan-island data-island="(\w+)"/g)].map((m) =>
        m[1]
      );
      assert.deepEqual(islandsOnPage, ["NotificationBell"], `${path}: only the bell is an island`);
      assert.equal(count(html, /<script/g), 1, `${path} has one script`);
      assert.equal(
        count(html, /<script type="module" nonce="[^"]+">/g),
        1,
        `${path}: a module script`,
      );
    }
    const res = await t.request("/o/acme/audit", { cookie: u.cookie });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.equal(count(html, /<script/g), 1, "one boot script for all the page's islands");
    assert.equal(count(html, /<script type="module" nonce="[^"]+">/g), 1);
    assert.match(html, /<capstan-island data-island="LiveAudit"/);
    // The island's module is served from the build, cacheable forever (its name is its hash).
    const { manifest } = await islands();
    const js = await t.request(manifest.islands.LiveAudit);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.match(js.headers.get("cache-control")!, /immutable/);
    // Without JS the page is still the whole audit log: filters, rows, pagination links.
    assert.match(html, /<form method="get" action="\/o\/acme\/audit"/);
    assert.match(html, /org\.created|member\.added/);
  },
);

dbTest(
  "[e2e] pages: members invite, change role and remove with PRG redirects and audit rows",
  async (h) => {
    const t = await pagesApp(h);
    const owner = await t.user("owner@example.com", { org: "acme", role: "owner" });
    const admin = await t.user("admin@example.com", { org: "acme", role: "admin" });
    const newbie = await t.user("new@example.com");

    const added = await t.request("/o/acme/members", {
      ...form({ email: "New@Example.com", role: "member" }),
      cookie: owner.cookie,
    });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get("location"), "/o/acme/members?ok=member_invited");
    const list =
      await (await t.request("/o/acme/members?ok=member_invited", { cookie: owner.cookie }))
        .text();
    assert.match(list, /Invitation recorded\./);
    assert.match(list, /new@example\.com/);
    // The invitee joins by accepting on their account page.
    const joined = await t.request("/account/invitations/acme/accept", {
      ...form({}),
      cookie: newbie.cookie,
    });
    assert.equal(joined.status, 303);

    // Admins cannot hand out ownership; the form shows why and keeps the input.
    const grant = await t.request("/o/acme/members", {
      ...form({ email: "owner2@example.com", role: "owner" }),
      cookie: admin.cookie,
    });
    assert.equal(grant.status, 403);
    const grantHtml = await grant.text();
    assert.match(grantHtml, /Only owners may grant or remove the owner role/);
    assert.match(grantHtml, /value="owner2@example.com"/);

    const changed = await t.request(`/o/acme/members/${newbie.id}/role`, {
      ...form({ role: "admin" }),
      cookie: owner.cookie,
    });
    assert.equal(changed.status, 303);
    assert.equal(changed.headers.get("location"), "/o/acme/members?ok=role_changed");
    const org = (await t.services.orgs.bySlug("acme"))!;
    assert.equal(await t.services.orgs.roleOf(org.id, newbie.id), "admin");

    // The last owner cannot step down: a 409 page that says so.
    const lastOwner = await t.request(`/o/acme/members/${owner.id}/role`, {
      ...form({ role: "viewer" }),
      cookie: owner.cookie,
    });
    assert.equal(lastOwner.status, 409);
    assert.match(await lastOwner.text(), /an organization needs at least one owner/);

    const confirm = await t.request(`/o/acme/members/${newbie.id}/remove`, {
      cookie: owner.cookie,
    });
    assert.equal(confirm.status, 200);
    const confirmHtml = await confirm.text();
    assert.match(confirmHtml, /Remove new@example\.com from acme\?/);
    assert.match(
      confirmHtml,
      new RegExp(`<form method="post" action="/o/acme/members/${newbie.id}/remove"`),
    );
    assert.match(confirmHtml, /href="\/o\/acme\/members">Cancel/);

    const removed = await t.request(`/o/acme/members/${newbie.id}/remove`, {
      ...form({}),
      cookie: owner.cookie,
    });
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.get("location"), "/o/acme/members?ok=member_removed");
    assert.equal(await t.services.orgs.roleOf(org.id, newbie.id), undefined);

    const audit = await t.services.audit.list({ orgId: org.id, action: "member.", limit: 10 });
    const actions = audit.rows.map((r) => `${r.action}:${r.status}`);
    assert.deepEqual(actions.slice(0, 4), [
      "member.removed:ok",
      "member.role_changed:error",
      "member.role_changed:ok",
      "member.added:ok",
    ]);
    assert.equal(audit.rows[0].actor_name, "owner@example.com");

    // Viewers see the table but no forms.
    const viewer = await t.user("viewer@example.com", { org: "acme", role: "viewer" });
    const seen = await (await t.request("/o/acme/members", { cookie: viewer.cookie })).text();
    assert.match(seen, /owner@example\.com/);
    assert.doesNotMatch(seen, /<form method="post"[^>]*members/);
  },
);

dbTest(
  "[e2e] pages: a new token is shown once, never in the list, and can be revoked",
  async (h) => {
    const t = await pagesApp(h);
    const u = await t.user("erin@example.com", { org: "acme", role: "member" });
    const posted = await t.request("/account/tokens", {
      ...form({ name: "ci deploy", org: "acme", scope: "read", expires_days: "" }),
      cookie: u.cookie,
      headers: { referer: "http://hub.test/account/tokens" },
    });
    // POST → redirect → GET (tests/ux_pages_test.ts has the reload case).
    assert.equal(posted.status, 303);
    const reveal = cookieValue(posted, "capstan_reveal");
    const created = await t.request(posted.headers.get("location")!, {
      cookie: `${u.cookie}; ${reveal}`,
    });
    assert.equal(created.status, 200);
    assert.equal(created.headers.get("cache-control"), "no-store");
    const html = await created.text();
    const token = html.match(/cap_[\w-]{43}/)?.[0];
    assert.ok(token, "the token is on the page");
    assert.equal(count(html, new RegExp(token, "g")), 1, "and only once (not in the island props)");
    assert.match(html, /shown only once/);
    assert.match(html, /<capstan-island data-island="CopyButton"/);
    assert.equal(count(html, /<script/g), 1);

    const list = await (await t.request("/account/tokens", { cookie: u.cookie })).text();
    assert.ok(!list.includes(token), "the list never shows the value");
    assert.match(list, new RegExp(`${token.slice(0, 10)}…`));
    assert.equal(count(list, /<script/g), 1, "the bell's only");

    // The token works on the API until revoked.
    assert.equal((await t.request("/api/v1/me", { token })).status, 200);
    const [record] = await t.services.tokens.listForUser(u.id);
    const confirm = await t.request(`/account/tokens/${record.id}/revoke`, { cookie: u.cookie });
    assert.match(await confirm.text(), /Revoke token “ci deploy”\?/);
    const revoked = await t.request(`/account/tokens/${record.id}/revoke`, {
      ...form({}),
      cookie: u.cookie,
    });
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get("location"), "/account/tokens?ok=token_revoked");
    assert.equal((await t.request("/api/v1/me", { token })).status, 401);
    const actions = (await t.services.audit.list({ action: "token.", limit: 5 })).rows.map((r) =>
      r.action
    );
    assert.deepEqual(actions, ["token.revoked", "token.created"]);

    // Someone else's token is a 404, on the confirmation page and on the action.
    const other = await t.user("frank@example.com", { org: "acme", role: "member" });
    assert.equal(
      (await t.request(`/account/tokens/${record.id}/revoke`, { cookie: other.cookie })).status,
      404,
    );
  },
);

dbTest(
  "[e2e] pages: the theme form sets a year-long Lax cookie and the next page is light",
  async (h) => {
    const t = await pagesApp(h);
    const res = await t.request("/theme", form({ theme: "light", back: "/docs/api?x=1" }));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/docs/api?x=1");
    const cookie = setCookie(res, "capstan_theme")!;
    assert.match(cookie, /^capstan_theme=light;/);
    assert.match(cookie, /Max-Age=31536000/);
    assert.match(cookie, /SameSite=Lax/);
    const page = await (await t.request("/docs/api", { cookie: "capstan_theme=light" })).text();
    assert.match(page, /<html data-theme="light"/);
    const dark = await (await t.request("/docs/api", { cookie: "capstan_theme=dark" })).text();
    assert.match(dark, /<html data-theme="dark"/);
    assert.match(dark, /name="theme" value="light"/, "the toggle offers the other theme");
  },
);

dbTest("[e2e] pages: redirects after sign-in and theme changes stay on this site", async (h) => {
  const t = await pagesApp(h);
  const u = await t.user("gus@example.com");
  const attempts = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1",
  ];
  for (const next of attempts) {
    const login = await t.request(
      "/login",
      form({ email: u.email, password: u.password, next }),
    );
    assert.equal(login.status, 303);
    const to = login.headers.get("location")!;
    assert.ok(to.startsWith("/") && !to.startsWith("//") && !to.includes("\\"), `${next} → ${to}`);
    assert.ok(!to.includes("evil"), `${next} → ${to}`);
    const theme = await t.request("/theme", form({ theme: "dark", back: next }));
    const back = theme.headers.get("location")!;
    assert.ok(!back.includes("evil") && !back.startsWith("//"), `${next} → ${back}`);
  }
  const already = await t.request("/login?next=//evil.example", { cookie: u.cookie });
  assert.equal(already.status, 303);
  assert.equal(already.headers.get("location"), "/");
});

dbTest(
  "[e2e] pages: invalid forms re-render with the input kept and a message per field",
  async (h) => {
    const t = await pagesApp(h);
    const admin = await t.user("root@example.com", { admin: true, org: "acme", role: "owner" });
    const res = await t.request("/admin/users", {
      ...form({ email: "not-an-email", name: "Ida <b>", password: "short", is_admin: "on" }),
      cookie: admin.cookie,
    });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /value="not-an-email"/);
    assert.match(html, /value="Ida &lt;b>"/, "input is kept, escaped");
    assert.match(html, /id="f-email-error">Must be a valid email address/);
    assert.match(html, /id="f-password-error">Must be at least 10 characters/);
    assert.match(html, /aria-invalid="true"/);
    assert.match(html, /type="checkbox" value="on" checked/);
    assert.doesNotMatch(html, /value="short"/);

    const dup = await t.request("/admin/orgs", {
      ...form({ slug: "acme", name: "Acme again" }),
      cookie: admin.cookie,
    });
    assert.equal(dup.status, 409);
    assert.match(await dup.text(), /slug is already in use/);

    const token = await t.request("/account/tokens", {
      ...form({ name: "", org: "acme", scope: "admin", expires_days: "0" }),
      cookie: admin.cookie,
    });
    assert.equal(token.status, 400);
    const tokenHtml = await token.text();
    assert.match(tokenHtml, /id="f-name-error">Is required/);
    assert.match(tokenHtml, /id="f-expires_days-error"/);
    assert.match(tokenHtml, /id="f-scope-error"/);

    const made = await t.request("/admin/orgs", {
      ...form({ slug: "globex", name: "Globex" }),
      cookie: admin.cookie,
    });
    assert.equal(made.status, 303);
    assert.equal(made.headers.get("location"), "/o/globex?ok=org_created");
  },
);

dbTest("[e2e] pages: changing the password keeps this session and ends the others", async (h) => {
  const t = await pagesApp(h);
  const u = await t.user("hal@example.com", { org: "acme", role: "member" });
  const { sessionId } = await t.services.accounts.signIn(SYSTEM_CTX, u.email, u.password);
  const other = `capstan_session=${sessionId}`;
  const wrong = await t.request("/account/password", {
    ...form({ current: "nope", next: "new-password-123", confirm: "new-password-123" }),
    cookie: u.cookie,
  });
  assert.equal(wrong.status, 400);
  assert.match(await wrong.text(), /id="f-current-error">Is wrong/);
  const ok = await t.request("/account/password", {
    ...form({ current: u.password, next: "new-password-123", confirm: "new-password-123" }),
    cookie: u.cookie,
  });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), "/account?ok=password_changed");
  const page = await t.request("/account?ok=password_changed", { cookie: u.cookie });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /other sessions were signed out/);
  assert.equal((await t.request("/account", { cookie: other })).status, 303);
});

dbTest(
  "[e2e] pages: home redirects to the first org, or explains what to do without one",
  async (h) => {
    const t = await pagesApp(h);
    const lonely = await t.user("ivy@example.com");
    const empty = await t.request("/", { cookie: lonely.cookie });
    assert.equal(empty.status, 200);
    assert.match(await empty.text(), /Ask an owner or admin/);
    const admin = await t.user("root@example.com", { admin: true });
    assert.match(
      await (await t.request("/", { cookie: admin.cookie })).text(),
      /href="\/admin\/orgs"/,
    );
    const member = await t.user("jo@example.com", { org: "beta", role: "viewer" });
    await t.services.accounts.ensureMembership(SYSTEM_CTX, member.id, "alpha", "member");
    const home = await t.request("/", { cookie: member.cookie });
    assert.equal(home.headers.get("location"), "/o/alpha");
    const switched = await t.request("/?org=beta", { cookie: member.cookie });
    assert.equal(switched.headers.get("location"), "/o/beta");
    assert.equal((await t.request("/?org=gamma", { cookie: member.cookie })).status, 404);
    // The org switcher is a GET form listing both organizations.
    const dash = await (await t.request("/o/beta", { cookie: member.cookie })).text();
    assert.match(dash, /<form class="org-switcher" method="get" action="\/"/);
    assert.match(dash, /<option value="beta" selected>/);
  },
);

dbTest(
  "[e2e] pages: the API reference is rendered from the OpenAPI document with policies",
  async (h) => {
    const t = await pagesApp(h);
    const res = await t.request("/docs/api");
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<code class="op-path">\/api\/v1\/audit<\/code>/);
    assert.match(html, /Members of the organization with the admin role or higher/);
    assert.match(html, /Platform admins/);
    assert.match(html, /id="schema-AuditEntry"/);
    assert.match(html, /class="method method-delete"/);
    assert.equal(count(html, /<script/g), 0);
    assert.ok(!/https?:\/\/(?!hub\.test)[^"\s]*cdn/i.test(html), "no CDN");
  },
);

dbTest(
  "[e2e] pages: errors render in the layout, and static files are cached by hash",
  async (h) => {
    const t = await pagesApp(h);
    const missing = await t.request("/no/such/page");
    assert.equal(missing.status, 404);
    const missingHtml = await missing.text();
    assert.match(missingHtml, /<html data-theme="system"/);
    assert.match(missingHtml, /No such page or endpoint/);
    // API paths keep JSON errors.
    assert.equal((await t.request("/api/v1/nope")).headers.get("content-type"), "application/json");

    const page = await (await t.request("/login")).text();
    const css = page.match(/href="(\/static\/app\.css\?v=([0-9a-f]+))"/)!;
    const res = await t.request(css[1]);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const etag = res.headers.get("etag")!;
    await res.body?.cancel();
    const again = await t.request("/static/app.css", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal((await t.request("/static/..%2Fdeno.json")).status, 404);
    assert.equal((await t.request("/static/_islands/manifest.json")).status, 404);
  },
);
