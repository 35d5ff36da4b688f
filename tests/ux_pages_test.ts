/**
 * First-week UX of the page frame and forms, through `app.request()` (issue 11, items 12, 17, 19,
 * 20, 21): grouped navigation with a user menu, a theme that follows the system until one is
 * picked, a token page that a reload cannot re-submit, plurals, and what the Add-host page says.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { insertAlert } from "./support/alerts.ts";
import { fakeContainer } from "./support/containers.ts";
import { SYSTEM_CTX } from "./support/services.ts";

/** A form POST as a browser sends it. */
function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

/** The text of the first element matching `re`'s group, or "". */
const pick = (html: string, re: RegExp) => html.match(re)?.[1] ?? "";

dbTest(
  "[e2e] ux: the side navigation is grouped and sign-out lives in the user menu",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("root@example.com", { admin: true, org: "acme", role: "owner" });
    const html = await (await t.request("/o/acme", { cookie: admin.cookie })).text();
    const nav = pick(html, /<nav class="nav"[^>]*>([\s\S]*?)<\/nav>/);
    const groups = [...nav.matchAll(/<h2 class="nav-group-title"[^>]*>([^<]+)<\/h2>/g)].map((m) =>
      m[1]
    );
    assert.deepEqual(groups, ["Fleet", "Apps", "Docker", "Monitoring", "Organization", "Admin"]);
    // Each group holds its own pages.
    const group = (name: string) =>
      [
        ...pick(nav, new RegExp(`>${name}</h2>([\\s\\S]*?)</ul>`)).matchAll(/<a [^>]*>([^<]+)</g),
      ].map((m) => m[1]);
    assert.deepEqual(group("Fleet"), ["Dashboard", "Hosts", "Topology"]);
    assert.deepEqual(group("Apps"), [
      "Apps",
      "Templates",
      "Routes",
      "Secrets",
      "Workers",
      "Storage",
    ]);
    assert.deepEqual(group("Docker"), ["Containers", "Images", "Networks", "Volumes"]);
    assert.deepEqual(group("Monitoring"), ["Health", "Notifications", "Alert rules", "Channels"]);
    assert.deepEqual(group("Organization"), [
      "Members",
      "Billing",
      "Quotas",
      "Audit log",
      "Settings",
    ]);
    assert.deepEqual(group("Admin"), [
      "Users",
      "Billing",
      "Quotas",
      "Organizations",
      "Topology",
    ]);
    assert.ok(!/Sign out/.test(nav), "sign-out is not a navigation entry");

    const menu = pick(html, /<details class="user-menu"[^>]*>([\s\S]*?)<\/details>/);
    assert.match(menu, /<summary[\s\S]*root<\/span>/, "the menu is named after the user");
    assert.match(menu, /<form method="post" action="\/logout"[\s\S]*Sign out<\/button>/);
    for (const href of ["/account", "/account/tokens", "/docs/api"]) {
      assert.match(menu, new RegExp(`href="${href}"`), `the user menu links ${href}`);
    }

    // A viewer sees neither the admin-only entries nor the platform group.
    const viewer = await t.user("vic@example.com", { org: "acme", role: "viewer" });
    const vhtml = await (await t.request("/o/acme", { cookie: viewer.cookie })).text();
    const vnav = pick(vhtml, /<nav class="nav"[^>]*>([\s\S]*?)<\/nav>/);
    assert.ok(!/>Admin</.test(vnav) && !/>Channels</.test(vnav) && !/>Audit log</.test(vnav));
    assert.match(vnav, />Organization<\/h2>[\s\S]*>Members</);

    // The phone menu button is a plain checkbox toggle: no script needed to open it.
    assert.match(html, /<input(?=[^>]*id="nav-toggle")(?=[^>]*type="checkbox")/);
    assert.match(html, /<label[^>]*for="nav-toggle"[^>]*>[\s\S]*Menu/);
  },
);

dbTest("[e2e] ux: the theme follows the system until the user picks one", async (h) => {
  const t = testApp(h);
  const page = await (await t.request("/docs/api")).text();
  assert.match(page, /<html data-theme="system"/, "no cookie: the system's choice");
  assert.match(page, /<meta name="color-scheme" content="light dark"/);
  assert.match(
    page,
    /<link rel="stylesheet" href="\/static\/theme-light\.css\?v=[\w]+" media="\(prefers-color-scheme: light\)"/,
  );
  // Both switches are there; CSS shows the one for the scheme in use.
  assert.match(page, /name="theme" value="light"/);
  assert.match(page, /name="theme" value="dark"/);

  const dark = await (await t.request("/docs/api", { cookie: "capstan_theme=dark" })).text();
  assert.match(dark, /<html data-theme="dark"/);
  assert.ok(!/theme-light\.css/.test(dark), "a dark choice loads no light palette");
  const light = await (await t.request("/docs/api", { cookie: "capstan_theme=light" })).text();
  assert.match(light, /<html data-theme="light"/);
  assert.match(light, /<link rel="stylesheet" href="\/static\/theme-light\.css\?v=[\w]+"\/?>/);

  // "system" forgets the choice.
  const reset = await t.request("/theme", form({ theme: "system", back: "/docs/api" }));
  assert.equal(reset.status, 303);
  assert.match(reset.headers.getSetCookie().join("\n"), /capstan_theme=;.*Max-Age=0/);
});

dbTest("[e2e] ux: a reloaded 'token created' page shows no token and mints none", async (h) => {
  const t = testApp(h);
  const u = await t.user("tess@example.com", { org: "acme", role: "member" });
  const res = await t.request("/account/tokens", {
    ...form({ name: "ci", org: "acme", scope: "read", expires_days: "" }),
    cookie: u.cookie,
  });
  assert.equal(res.status, 303, "POST → redirect");
  const location = res.headers.get("location")!;
  assert.equal(location, "/account/tokens?created=1");
  assert.ok(!location.includes("cap_"), "the value never travels in a URL");
  const reveal = res.headers.getSetCookie().find((c) => c.startsWith("capstan_reveal="));
  assert.ok(reveal, "the value waits in a short-lived cookie");
  assert.match(reveal, /HttpOnly/);
  assert.match(reveal, /SameSite=Strict/);
  assert.match(reveal, /Path=\/account\/tokens/);
  assert.match(reveal, /Max-Age=(\d{1,3});/);
  assert.ok(!/cap_/.test(reveal), "and is encrypted there");

  const cookie = `${u.cookie}; ${reveal.split(";")[0]}`;
  const shown = await t.request(location, { cookie });
  assert.equal(shown.status, 200);
  assert.equal(shown.headers.get("cache-control"), "no-store");
  const html = await shown.text();
  const token = html.match(/cap_[\w-]{43}/)?.[0];
  assert.ok(token, "→ GET shows the new token once");
  assert.match(
    shown.headers.getSetCookie().join("\n"),
    /capstan_reveal=;.*Max-Age=0/,
    "and forgets it",
  );
  assert.equal((await t.request("/api/v1/me", { token })).status, 200);

  // A reload (the browser still has no reveal cookie) shows no value and creates nothing.
  const again = await (await t.request(location, { cookie: u.cookie })).text();
  assert.ok(!/cap_[\w-]{43}/.test(again), "no token on the reloaded page");
  assert.match(again, /shown only once/);
  assert.equal((await t.services.tokens.listForUser(u.id)).length, 1, "exactly one token");

  // Someone else's session cannot open the reveal cookie.
  const eve = await t.user("eve@example.com", { org: "acme", role: "member" });
  const stolen = await (await t.request(location, {
    cookie: `${eve.cookie}; ${reveal.split(";")[0]}`,
  })).text();
  assert.ok(!stolen.includes(token));
});

dbTest("[e2e] ux: counts read as English (1 account, 2 accounts)", async (h) => {
  const t = testApp(h);
  const admin = await t.user("root@example.com", { admin: true });
  const one = await (await t.request("/admin/users", { cookie: admin.cookie })).text();
  assert.match(one, /1 account on this hub/);
  await t.user("second@example.com");
  const two = await (await t.request("/admin/users", { cookie: admin.cookie })).text();
  assert.match(two, /2 accounts on this hub/);
});

/** The count and accessible name of the layout's bell. */
function bell(html: string): { count: number; label: string } {
  const m =
    /<a class="btn btn-ghost btn-icon bell"[^>]*aria-label="([^"]*)"[^>]*data-unread="(\d+)"/
      .exec(html);
  assert.ok(m, "the layout has a bell");
  return { label: m[1], count: Number(m[2]) };
}

dbTest(
  "[e2e] ux: the bell counts unacknowledged firing alerts; the dashboard leads with what is wrong",
  async (h) => {
    const t = testApp(h);
    const s = t.services;
    const owner = await t.user("olga@example.com", { org: "acme", role: "owner" });
    const org = (await s.orgs.bySlug("acme"))!;
    const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
    const get = async (path: string) =>
      await (await t.request(path, { cookie: owner.cookie })).text();

    // Nothing wrong yet: the dashboard says so instead of listing nothing.
    let home = await get("/o/acme");
    assert.equal(bell(home).count, 0);
    assert.match(home, /Nothing needs attention/);

    const cpu = await insertAlert(s.db, org, host, { title: "CPU above 90% on web-1" });
    await insertAlert(s.db, org, host, { title: "Disk above 90% on web-1", severity: "critical" });
    await insertAlert(s.db, org, host, { title: "Old one", state: "resolved", ended_at: 1 });
    await insertAlert(s.db, org, host, { title: "Muted one", muted: 1 });
    await insertAlert(s.db, org, host, { title: "Seen one", acknowledged_at: 1 });
    assert.deepEqual(bell(await get("/o/acme/hosts")), {
      count: 2,
      label: "Notifications: 2 firing alerts not acknowledged",
    });

    // Opening the notification center does not zero it while they fire.
    await get("/o/acme/notifications");
    assert.equal(bell(await get("/o/acme/hosts")).count, 2);
    const api = await t.request("/api/v1/orgs/acme/notifications/open-count", {
      cookie: owner.cookie,
    });
    assert.deepEqual(await api.json(), { count: 2 });
    // Acknowledging one does.
    const ack = await t.request(`/o/acme/notifications/${cpu.id}/acknowledge`, {
      ...form({}),
      cookie: owner.cookie,
    });
    assert.equal(ack.status, 303);
    assert.deepEqual(bell(await get("/o/acme/hosts")), {
      count: 1,
      label: "Notifications: 1 firing alert not acknowledged",
    });

    // A failing health check.
    await s.hosts.applySnapshot(host, [fakeContainer("a", "shop")]);
    const check = await s.health.service.create(SYSTEM_CTX, org.id, {
      host_id: host.id,
      container: "shop",
      kind: "tcp",
      tcp: { port: 8080 },
    }, { role: "owner" });
    await s.db.updateTable("health_checks").set({ state: "unhealthy" })
      .where("id", "=", check.id).execute();

    // The dashboard starts with them: firing alerts (acknowledged or not) and failing checks,
    // before the fleet figures.
    home = await get("/o/acme");
    const attention = pick(home, /<section class="attention[^"]*"[^>]*>([\s\S]*?)<\/section>/);
    assert.ok(attention, "an attention section");
    assert.ok(
      home.indexOf('class="attention') < home.indexOf('<h2 class="section-title">Organization'),
      "it comes first",
    );
    for (const text of ["CPU above 90% on web-1", "Disk above 90% on web-1", "Seen one"]) {
      assert.ok(attention.includes(text), `lists ${text}`);
    }
    assert.ok(!attention.includes("Old one") && !attention.includes("Muted one"));
    assert.match(attention, new RegExp(`href="/o/acme/health/${check.id}"`));
    assert.match(attention, /shop/);
    assert.match(attention, /href="\/o\/acme\/notifications\?state=firing"/);
    assert.doesNotMatch(home, /Nothing needs attention/);
  },
);

dbTest(
  "[e2e] ux: Add host says plainly when other machines cannot reach the hub's address",
  async (h) => {
    // No CAPSTAN_PUBLIC_URL and the hub on loopback: the command would name 127.0.0.1.
    const local = testApp(h, undefined, undefined, {
      CAPSTAN_PUBLIC_URL: "",
      CAPSTAN_PORT: "8080",
    });
    const admin = await local.user("ada@example.com", { org: "acme", role: "owner" });
    const page = await (await local.request("/o/acme/hosts/new", { cookie: admin.cookie })).text();
    const warning = pick(page, /<div class="alert alert-warn"[^>]*>([\s\S]*?)<\/div>/);
    assert.match(warning, /http:\/\/127\.0\.0\.1:8080/);
    assert.match(warning, /Other machines cannot reach this address/);
    assert.match(warning, /CAPSTAN_PUBLIC_URL/);
    assert.match(warning, /CAPSTAN_HOST/, "listening on loopback too: say how to listen wider");
    const added = await local.request("/o/acme/hosts", {
      ...form({ name: "web-1", labels: "" }),
      cookie: admin.cookie,
      headers: { origin: "http://127.0.0.1:8080" },
    });
    assert.equal(added.status, 200);
    const enrolled = await added.text();
    assert.match(enrolled, /curl -fsSL http:\/\/127\.0\.0\.1:8080\/api\/v1\/agent\/install\.sh/);
    assert.match(enrolled, /Other machines cannot reach this address/, "and beside the command");

    // With CAPSTAN_PUBLIC_URL the command uses it, and nothing needs saying.
    const pub = testApp(h, undefined, undefined, { CAPSTAN_PUBLIC_URL: "https://hub.example.com" });
    const bob = await pub.user("bob@example.com", { org: "globex", role: "owner" });
    const ok = await (await pub.request("/o/globex/hosts/new", { cookie: bob.cookie })).text();
    assert.doesNotMatch(ok, /cannot reach/);
    const res = await pub.request("/o/globex/hosts", {
      ...form({ name: "web-2", labels: "" }),
      cookie: bob.cookie,
      headers: { origin: "https://hub.example.com" },
    });
    const html = await res.text();
    assert.match(
      html,
      /curl -fsSL https:\/\/hub\.example\.com\/api\/v1\/agent\/install\.sh \| sudo HUB=https:\/\/hub\.example\.com TOKEN=cape_/,
    );
    assert.doesNotMatch(html, /cannot reach/);

    // Listening on every address but without a public URL: the fix is the URL alone.
    const wide = testApp(h, undefined, undefined, {
      CAPSTAN_PUBLIC_URL: "",
      CAPSTAN_HOST: "0.0.0.0",
      CAPSTAN_PORT: "8080",
    });
    const cy = await wide.user("cy@example.com", { org: "initech", role: "owner" });
    const w = await (await wide.request("/o/initech/hosts/new", { cookie: cy.cookie })).text();
    const note = pick(w, /<div class="alert alert-warn"[^>]*>([\s\S]*?)<\/div>/);
    assert.match(note, /CAPSTAN_PUBLIC_URL/);
    assert.doesNotMatch(note, /CAPSTAN_HOST/);
  },
);

dbTest("[e2e] ux: forms keep what was typed and say what is wrong in sentences", async (h) => {
  const t = testApp(h, undefined, undefined, {
    CAPSTAN_SECRET_KEY: "a".repeat(43),
  });
  const admin = await t.user("root@example.com", { admin: true, org: "acme", role: "owner" });
  const post = async (path: string, fields: Record<string, string>) => {
    const res = await t.request(path, { ...form(fields), cookie: admin.cookie });
    return { res, html: await res.text() };
  };
  const fieldError = (html: string, id: string) =>
    pick(html, new RegExp(`id="${id}-error">([^<]*)<`));
  const inputValue = (html: string, name: string) =>
    pick(html, new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`));

  // The channel form: a short signing secret. URL and secret come back as typed (the page is
  // never cached), with a sentence, not zod's "Too small: expected string to have >=16".
  const channel = await post("/o/acme/alerts/channels/new", {
    kind: "webhook",
    name: "ops",
    url: "https://hooks.example.com/T0/B0",
    secret: "too-short",
  });
  assert.equal(channel.res.status, 400);
  assert.equal(channel.res.headers.get("cache-control"), "no-store");
  assert.equal(fieldError(channel.html, "ch-secret"), "Must be at least 16 characters");
  assert.equal(inputValue(channel.html, "url"), "https://hooks.example.com/T0/B0");
  assert.equal(inputValue(channel.html, "secret"), "too-short");
  assert.equal(inputValue(channel.html, "name"), "ops");

  // The same rule through the API reads the same way.
  const api = await t.request("/api/v1/orgs/acme/channels", {
    method: "POST",
    cookie: admin.cookie,
    json: {
      name: "x",
      kind: "webhook",
      config: { url: "https://hooks.example.com/x", secret: "s" },
    },
  });
  assert.equal(api.status, 400);
  assert.equal((await api.json()).error.fields["config.secret"], "must be at least 16 characters");

  // Other forms: numbers and lengths in words; input kept.
  const token = await post("/account/tokens", {
    name: "deploy",
    org: "acme",
    scope: "read",
    expires_days: "0",
  });
  assert.equal(fieldError(token.html, "f-expires_days"), "Must be at least 1");
  assert.equal(inputValue(token.html, "name"), "deploy");
  const rule = await post("/o/acme/alerts/rules/new", {
    kind: "metric",
    name: "x".repeat(101),
    metric: "cpu.total_pct",
    trigger: "90",
    hold_s: "-5",
  });
  assert.equal(fieldError(rule.html, "rule-name"), "Must be at most 100 characters");
  assert.equal(fieldError(rule.html, "rule-hold_s"), "Must be at least 0");
  assert.equal(inputValue(rule.html, "hold_s"), "-5");
  for (const html of [channel.html, token.html, rule.html]) {
    assert.doesNotMatch(html, /Too (small|big)|expected (string|number)/);
  }
  // Passwords that are not secrets of a form's own object stay unechoed (sign-in, accounts).
  const user = await post("/admin/users", {
    email: "n@example.com",
    name: "N",
    password: "short1",
  });
  assert.equal(fieldError(user.html, "f-password"), "Must be at least 10 characters");
  assert.ok(!user.html.includes('value="short1"'));
});
