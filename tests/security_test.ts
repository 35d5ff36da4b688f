/**
 * Fixes from the outside review (issue 11), end to end through `app.request()` on both dialects:
 * redirects after sign-in, NUL bytes in any input, CSRF and WebSocket origins, CSP, weak
 * passwords, API tokens that mint tokens, and adding members by email.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { statusOf } from "./support/errors.ts";
import { declaredRoutes } from "../lib/http/policy.ts";
import { startHub } from "../hub.ts";
import { loadConfig } from "../lib/config.ts";
import { silentLogger } from "../lib/log.ts";
import { islands } from "../lib/islands/registry.ts";
import { type IslandManifest, MANIFEST_VERSION } from "../lib/islands/manifest.ts";

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
    const inPath = await t.request("/api/v1/orgs/acme/hosts/x%00y", { cookie: admin.cookie });
    assert.equal(inPath.status, 400);
    assert.deepEqual((await inPath.json()).error.fields, {
      hostId: "must not contain NUL characters",
    });
    for (const asset of ["/static/a%00b.css", "/_islands/a%00b.js"]) {
      const r = await t.request(asset);
      await r.body?.cancel();
      assert.ok(r.status === 400 || r.status === 404, `${asset} → ${r.status}`);
    }
  },
);

dbTest(
  "[e2e] CSRF: the allowed origin is CAPSTAN_PUBLIC_URL's, never the Host header's",
  async (h) => {
    const t = testApp(h);
    const u = await t.user("gus@example.com");
    // The attacker's page on evil.example posts to the hub through a name that resolves to it.
    const forged = await t.app.request("http://evil.example/logout", {
      method: "POST",
      headers: { cookie: u.cookie, origin: "http://evil.example" },
    });
    await forged.body?.cancel();
    assert.equal(forged.status, 403);
    assert.ok(await t.services.sessions.resolve(u.cookie.split("=")[1]), "session still alive");
    const own = await t.app.request("http://evil.example/logout", {
      method: "POST",
      headers: { cookie: u.cookie, origin: "http://hub.test" },
    });
    await own.body?.cancel();
    assert.equal(own.status, 303);

    // A loopback public URL also accepts the other loopback names of the same port.
    const local = testApp(h, undefined, undefined, { CAPSTAN_PUBLIC_URL: "http://127.0.0.1:8080" });
    const v = await local.user("vic@example.com");
    for (
      const [origin, status] of [["http://localhost:8080", 303], ["http://localhost:9090", 403]]
    ) {
      const res = await local.app.request("http://localhost:8080/logout", {
        method: "POST",
        headers: { cookie: v.cookie, origin: String(origin) },
      });
      await res.body?.cancel();
      assert.equal(res.status, status, String(origin));
    }
  },
);

dbTest("[e2e] WebSocket upgrade refuses an Origin other than this hub's", async (h) => {
  const t = testApp(h);
  const u = await t.user("gus@example.com", { org: "acme", role: "viewer" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  try {
    const url = `http://127.0.0.1:${server.addr.port}/api/v1/ws`;
    const handshake = (origin: string) =>
      fetch(url, {
        headers: {
          cookie: u.cookie,
          origin,
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": btoa("0123456789abcdef"),
        },
      });
    const foreign = await handshake("http://evil.example");
    await foreign.body?.cancel();
    assert.equal(foreign.status, 403);
    // The hub's own pages (and scripts, which send no Origin) still connect.
    const ws = new WebSocket(url.replace("http", "ws"), {
      headers: { cookie: u.cookie, origin: "http://hub.test" },
    } as unknown as string[]);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("own origin was refused"));
    });
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
  } finally {
    await t.hub.close();
    await server.shutdown();
  }
});

dbTest("[e2e] CSP: scripts run only from this hub or with the page's own nonce", async (h) => {
  // Rendering needs only the manifest's URLs, not the bundles, so a hand-made one will do.
  const names = Object.keys(islands);
  const manifest: IslandManifest = {
    version: MANIFEST_VERSION,
    inputHash: "test",
    publicPath: "/_islands/",
    boot: "/_islands/boot.js",
    islands: Object.fromEntries(names.map((n) => [n, `/_islands/${n}.js`])),
    imports: {},
  };
  const t = testApp(h, undefined, { islands: manifest });
  const u = await t.user("gus@example.com", { org: "acme", role: "owner" });
  const nonces = new Set<string>();
  for (const path of ["/o/acme/audit", "/o/acme/audit", "/account"]) {
    const res = await t.request(path, { cookie: u.cookie });
    assert.equal(res.status, 200, path);
    const csp = res.headers.get("content-security-policy")!;
    const scriptSrc = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src"))!;
    assert.doesNotMatch(scriptSrc, /unsafe-inline/, path);
    const nonce = /'nonce-([A-Za-z0-9+/=_-]{22,})'/.exec(scriptSrc)?.[1];
    assert.ok(nonce, `${path}: ${scriptSrc}`);
    const html = await res.text();
    const inline = [...html.matchAll(/<script\b([^>]*)>(?!<\/script>)/g)];
    assert.ok(inline.length > 0, `${path} has its boot script`);
    for (const [, attrs] of inline) assert.match(attrs, new RegExp(`nonce="${nonce}"`), path);
    assert.doesNotMatch(html, /\son[a-z]+="/, `${path}: no inline event handlers`);
    nonces.add(nonce);
  }
  assert.equal(nonces.size, 3, "a fresh nonce per response");
});

dbTest(
  "[e2e] common passwords and one repeated character are refused with a sentence",
  async (h) => {
    const t = testApp(h);
    const u = await t.user("gus@example.com");
    const page = await t.request("/account/password", {
      ...form({ current: u.password, next: "Qwertyuiop", confirm: "Qwertyuiop" }),
      cookie: u.cookie,
    });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /too common: it is on lists of leaked passwords/);
    const api = await t.request("/api/v1/me/password", {
      method: "POST",
      cookie: u.cookie,
      json: { current: u.password, next: "1111111111111" },
    });
    assert.equal(api.status, 400);
    assert.deepEqual((await api.json()).error.fields, {
      next: "must not be one character repeated",
    });
    // Nothing changed: the old password still signs in.
    assert.ok(
      await t.services.accounts.signIn({ actor: { type: "anonymous" } }, u.email, u.password),
    );
  },
);

Deno.test("[e2e] the data dir is 0700, capstan.db* 0600, and the setup-token file goes with setup", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-e2e-" });
  await Deno.chmod(dataDir, 0o755);
  const mode = (name: string) => (Deno.statSync(join(dataDir, name)).mode! & 0o777).toString(8);
  const hub = await startHub(
    loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "0" }),
    { log: silentLogger, jobs: false },
  );
  try {
    assert.equal(mode("."), "700");
    const dbFiles = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
      n.startsWith("capstan.db")
    );
    assert.ok(dbFiles.includes("capstan.db") && dbFiles.includes("capstan.db-wal"), `${dbFiles}`);
    for (const f of dbFiles) assert.equal(mode(f), "600", f);
    assert.equal(mode("setup-token"), "600");
    const res = await fetch(`${hub.url}/setup`, {
      method: "POST",
      headers: { origin: hub.url },
      body: new URLSearchParams({
        token: hub.setupToken!,
        name: "Root",
        email: "root@x.io",
        password: "a-long-root-password",
        confirm: "a-long-root-password",
        org_name: "Main",
        org_slug: "main",
      }),
      redirect: "manual",
    });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    await assert.rejects(Deno.stat(join(dataDir, "setup-token")), Deno.errors.NotFound);
  } finally {
    await hub.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

dbTest(
  "[e2e] an API token sees and mints tokens only in its own organization, never longer-lived",
  async (h) => {
    const t = testApp(h);
    const u = await t.user("gus@example.com", { org: "acme", role: "owner" });
    await t.services.accounts.ensureMembership(
      { actor: { type: "system" } },
      u.id,
      "globex",
      "owner",
    );
    const orgB = (await t.services.orgs.bySlug("globex"))!;
    const orgA = (await t.services.orgs.bySlug("acme"))!;
    const DAY = 24 * 3600_000;
    const mint = (orgId: string, expiresAt: number | null) =>
      t.services.tokens.create({ userId: u.id, orgId, name: "t", scope: "write", expiresAt });
    const a = await mint(orgA.id, t.services.clock.now() + 2 * DAY);
    const b = await mint(orgB.id, null);

    const list = await (await t.request("/api/v1/tokens", { token: a.token })).json();
    assert.deepEqual(list.items.map((x: { org_id: string }) => x.org_id), [orgA.id]);
    const revokeB = await t.request(`/api/v1/tokens/${b.record.id}`, {
      method: "DELETE",
      token: a.token,
    });
    await revokeB.body?.cancel();
    assert.equal(revokeB.status, 404);
    assert.ok(await t.services.tokens.resolve(b.token), "the org-B token still works");

    const create = async (body: Record<string, unknown>) => {
      const res = await t.request("/api/v1/tokens", { method: "POST", token: a.token, json: body });
      return { status: res.status, body: await res.json() };
    };
    assert.equal((await create({ name: "x", org: "globex", scope: "read" })).status, 404);
    const forever = await create({ name: "x", org: "acme", scope: "write" });
    assert.equal(forever.status, 400);
    assert.match(
      forever.body.error.fields.expires_days,
      /must be at most 1 day: this token expires at/,
    );
    assert.equal(
      (await create({ name: "x", org: "acme", scope: "write", expires_days: 30 })).status,
      400,
    );
    const ok = await create({ name: "x", org: "acme", scope: "read", expires_days: 1 });
    assert.equal(ok.status, 201);
    assert.ok(ok.body.record.expires_at <= a.record.expires_at!);

    // A read token cannot mint at all (writes need write scope), so never a wider one.
    const r = await t.services.tokens.create({
      userId: u.id,
      orgId: orgA.id,
      name: "r",
      scope: "read",
      expiresAt: null,
    });
    const wider = await t.request("/api/v1/tokens", {
      method: "POST",
      token: r.token,
      json: { name: "w", org: "acme", scope: "write" },
    });
    await wider.body?.cancel();
    assert.equal(wider.status, 403);
  },
);

dbTest(
  "[e2e] /healthz stays responsive during a sign-in storm (180 sign-ins from 60 addresses)",
  async (h) => {
    const t = testApp(h);
    await t.user("victim@example.com");
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}/healthz`;
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const probe = async (n: number, until?: () => boolean) => {
      const times: number[] = [];
      for (let i = 0; until ? !until() : i < n; i++) {
        const t0 = performance.now();
        const res = await fetch(url);
        await res.body?.cancel();
        assert.equal(res.status, 200);
        times.push(performance.now() - t0);
      }
      return median(times);
    };
    try {
      await probe(5);
      const idle = await probe(20);
      const storm = Promise.allSettled(
        Array.from({ length: 180 }, (_, i) =>
          t.services.accounts.signIn(
            { actor: { type: "anonymous" }, ip: `10.0.${i % 60}.1` },
            i % 3 === 0 ? "victim@example.com" : `nobody${i}@example.com`,
            `guess-${i}`,
          )),
      );
      let settled = false;
      storm.finally(() => settled = true);
      // Probes run back to back for as long as the storm lasts.
      const during = await probe(0, () => settled);
      const outcomes = await storm;
      const statuses = outcomes.map((o) => o.status === "rejected" ? statusOf(o.reason) : 200);
      console.log(
        `healthz median: idle ${idle.toFixed(1)} ms, during the storm ${during.toFixed(1)} ms; ` +
          `sign-ins: ${
            ["401", "429", "503"].map((s) =>
              `${s}×${statuses.filter((x) => String(x) === s).length}`
            ).join(" ")
          }`,
      );
      assert.ok(statuses.every((s) => s === 401 || s === 429 || s === 503), `${statuses}`);
      const bound = Math.max(idle * 10, 20);
      assert.ok(during < bound, `idle ${idle} ms, during ${during} ms (bound ${bound} ms)`);
    } finally {
      await server.shutdown();
    }
  },
);

dbTest(
  "[e2e] adding a member by email answers the same whether an account exists: an invitation",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("admin@x.io", { org: "acme", role: "admin" });
    const bob = await t.user("bob@x.io");
    const invite = async (email: string) => {
      const res = await t.request("/api/v1/orgs/acme/members", {
        method: "POST",
        cookie: admin.cookie,
        json: { email, role: "member" },
      });
      const body = await res.json();
      return { status: res.status, keys: Object.keys(body).sort(), body };
    };
    const known = await invite("bob@x.io");
    const unknown = await invite("nobody@x.io");
    assert.equal(known.status, 202);
    assert.deepEqual([unknown.status, unknown.keys], [known.status, known.keys]);
    assert.ok(!("user_id" in known.body) && !("name" in known.body), "nothing about the account");
    const members = async () =>
      (await (await t.request("/api/v1/orgs/acme/members", { cookie: admin.cookie })).json())
        .items.map((m: { email: string }) => m.email);
    assert.deepEqual(await members(), ["admin@x.io"], "nobody joins until they accept");
    const pending =
      await (await t.request("/api/v1/orgs/acme/invitations", { cookie: admin.cookie }))
        .json();
    assert.deepEqual(pending.items.map((i: { email: string }) => i.email).sort(), [
      "bob@x.io",
      "nobody@x.io",
    ]);
    // The same from the members page: one redirect and one message for both.
    for (const email of ["bob@x.io", "ghost@x.io"]) {
      const res = await t.request("/o/acme/members", {
        ...form({ email, role: "viewer" }),
        cookie: admin.cookie,
      });
      await res.body?.cancel();
      assert.equal(res.headers.get("location"), "/o/acme/members?ok=member_invited", email);
    }

    // Bob sees the invitation once signed in, and joins by accepting it (with the page's role).
    const mine = await (await t.request("/api/v1/me/invitations", { cookie: bob.cookie })).json();
    assert.deepEqual(
      mine.items.map((i: { org_slug: string; role: string }) => [i.org_slug, i.role]),
      [
        ["acme", "viewer"],
      ],
    );
    const account = await (await t.request("/account", { cookie: bob.cookie })).text();
    assert.match(account, /invites you as <strong>viewer<\/strong>/);
    assert.match(account, /action="\/account\/invitations\/acme\/accept"/);
    const accept = await t.request("/account/invitations/acme/accept", {
      ...form({}),
      cookie: bob.cookie,
    });
    await accept.body?.cancel();
    assert.equal(accept.headers.get("location"), "/o/acme?ok=invitation_accepted");
    assert.deepEqual(await members(), ["admin@x.io", "bob@x.io"]);
    const again = await t.request("/api/v1/me/invitations/acme/accept", {
      method: "POST",
      cookie: bob.cookie,
    });
    await again.body?.cancel();
    assert.equal(again.status, 404, "an invitation is used once");
    // Cancelling withdraws one; nobody else can accept another's invitation.
    const cancel = await t.request("/api/v1/orgs/acme/invitations/nobody%40x.io", {
      method: "DELETE",
      cookie: admin.cookie,
    });
    assert.equal(cancel.status, 204);
    const org = (await t.services.orgs.bySlug("acme"))!;
    const audit = await t.services.audit.list({ orgId: org.id, action: "member.", limit: 20 });
    assert.ok(audit.rows.some((r) => r.action === "member.added" && r.actor_name === "bob@x.io"));
  },
);

dbTest("[e2e] every kind of response carries the security headers, set once", async (h) => {
  const t = testApp(h);
  const u = await t.user("gus@example.com", { org: "acme", role: "owner" });
  const responses = {
    page: await t.request("/account", { cookie: u.cookie }),
    json: await t.request("/api/v1/orgs", { cookie: u.cookie }),
    error: await t.request("/api/v1/orgs"),
    missing: await t.request("/no/such/page", { cookie: u.cookie }),
    static: await t.request("/static/app.css"),
    redirect: await t.request("/"),
  };
  const statuses = Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.status]));
  assert.deepEqual(statuses, {
    page: 200,
    json: 200,
    error: 401,
    missing: 404,
    static: 200,
    redirect: 303,
  });
  for (const [kind, res] of Object.entries(responses)) {
    await res.body?.cancel();
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", kind);
    assert.equal(res.headers.get("x-frame-options"), "DENY", kind);
    assert.equal(res.headers.get("referrer-policy"), "same-origin", kind);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors 'none'/, kind);
    assert.doesNotMatch(csp, /,/, `${kind}: one policy, not two joined`);
  }
});
