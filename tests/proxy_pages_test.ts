/**
 * The routes pages and Settings → Proxy through the whole app (no Caddy configured: every load
 * says so, which the pages show), on both dialects: the empty list with what a route is; the
 * new-route form prefilled from `?app=`, refusing bad input with each message next to its field
 * (the form's own checks and the service's `hostnames.N`, `target.app`, `basic_auth.password`),
 * the input kept and the password never echoed; the flash after creating; the route page with its
 * words, DNS records and states; an edit that keeps the stored password; the typed list's search
 * and next page; the app page's Routes section; the delete confirmation; the policies (viewers
 * read, members change, another organization's route is a 404, Settings → Proxy only for
 * platform admins) and the settings form with its refusals and its audit.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { RouteSpec } from "../lib/proxy/spec.ts";
import {
  fieldError as formFieldError,
  inputValue,
  isChecked,
  textareaValue,
  unescape,
} from "./support/html.ts";

async function setup(h: DbHandle) {
  const t = testApp(h);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const eve = await t.user("eve@other.io", { org: "other", role: "owner" });
  const root = await t.user("root@hub.io", { admin: true, org: "acme", role: "owner" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const get = async (path: string, cookie: string) => {
    const res = await t.request(path, { cookie });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  const post = async (path: string, fields: Record<string, string>, cookie: string) => {
    const res = await t.request(path, {
      method: "POST",
      body: new URLSearchParams(fields),
      cookie,
    });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  // An app with a published port (stored only: the pages need no engine).
  await s.apps.store.create(org.id, {
    name: "shop",
    spec: AppSpec.parse({
      services: [{ name: "web", image: "capstan-test/busybox:1", ports: [{ target: 8080 }] }],
    }),
  }, null);
  return { t, s, org, owner, member, viewer, eve, root, get, post };
}

/** The message under field `name` of the route form (or `prefix`'s). */
const fieldError = (html: string, name: string, prefix = "route") =>
  formFieldError(html, name, prefix);

const GOOD = {
  hostnames: "shop.acme.test\nwww.shop.acme.test",
  path_prefix: "",
  target: "shop/web",
  target_port: "8080",
  tls: "internal",
  https_redirect: "on",
  www: "none",
  request_headers: "",
  response_headers: "X-Served-By: capstan",
  auth_username: "ops",
  auth_password: "correct horse",
  ip_allow: "",
  rate_per_second: "",
  rate_burst: "",
  max_body_mib: "",
};

dbTest(
  "[e2e] proxy pages: empty state, the form's refusals next to their fields with the input kept, create with a flash, route page, edit keeping the password, app page section, delete, policies",
  async (h) => {
    const { s, org, get, post, member, viewer, eve } = await setup(h);

    // The empty list says what a route is; members are offered New route, viewers only read.
    let r = await get("/o/acme/routes", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="\/o\/acme\/routes"[^>]*>Routes</, "the nav links Routes");
    assert.match(r.html, /No routes yet/);
    assert.match(r.html, /A route sends the requests for your hostnames/);
    assert.match(r.html, /href="\/o\/acme\/routes\/new"/);
    r = await get("/o/acme/routes", viewer.cookie);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.html, /href="\/o\/acme\/routes\/new"/);
    assert.equal((await get("/o/acme/routes/new", viewer.cookie)).status, 403);
    assert.equal((await get("/o/acme/routes", eve.cookie)).status, 404);

    // The form from the app: its first published port, HTTPS redirect on, no URL for members.
    r = await get("/o/acme/routes/new?app=shop", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /<option value="shop\/web" selected/);
    assert.equal(inputValue(r.html, "target_port"), "8080");
    assert.ok(isChecked(r.html, "https_redirect"), "HTTPS redirect is on by default");
    assert.doesNotMatch(r.html, /<option value="url"/, "external URLs are for platform admins");
    assert.match(r.html, /Caddy's standard build has no rate limiter/);

    // The form's own checks: a header line without a colon, a number that is not one.
    r = await post("/o/acme/routes/new", {
      ...GOOD,
      request_headers: "NoColonHere",
      max_body_mib: "lots",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "request_headers") ?? "", /"NoColonHere" is not a Name: value/);
    assert.equal(fieldError(r.html, "max_body_mib"), "Must be a whole number");
    assert.equal(textareaValue(r.html, "hostnames"), GOOD.hostnames, "the input is kept");
    assert.equal(inputValue(r.html, "auth_password"), undefined, "the password is not echoed");

    // The service's rules, each next to its field: the second hostname, the password's length.
    r = await post("/o/acme/routes/new", {
      ...GOOD,
      hostnames: "shop.acme.test\nnot a host",
      auth_password: "short",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "hostnames") ?? "", /^Line 2: must be a domain name/);
    assert.match(fieldError(r.html, "auth_password") ?? "", /at least 8 characters/);
    assert.equal(inputValue(r.html, "auth_username"), "ops");
    assert.equal(inputValue(r.html, "auth_password"), undefined);
    assert.equal(textareaValue(r.html, "response_headers"), "X-Served-By: capstan");
    // Rules across fields, once each field is well-formed.
    r = await post("/o/acme/routes/new", {
      ...GOOD,
      rate_per_second: "10",
      rate_burst: "5",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "rate_burst") ?? "", /at least the rate per second/);
    r = await post("/o/acme/routes/new", { ...GOOD, target: "ghost/web" }, member.cookie);
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "target"), "There is no app ghost");
    // An external URL is refused to members, said above the form.
    r = await post("/o/acme/routes/new", {
      ...GOOD,
      target: "url",
      target_url: "http://10.0.0.1",
    }, member.cookie);
    assert.equal(r.status, 403);
    assert.match(r.html, /role="alert"[^>]*>Only platform admins may route to an external URL/);
    assert.equal((await post("/o/acme/routes/new", GOOD, viewer.cookie)).status, 403);

    // Created: to the route page with the flash; no ingress here, and the page says so.
    r = await post("/o/acme/routes/new", GOOD, member.cookie);
    assert.equal(r.status, 303, r.html.slice(0, 400));
    const m = /^\/o\/acme\/routes\/([0-9a-f-]{36})\?done=created$/.exec(r.location ?? "");
    assert.ok(m, r.location ?? "");
    const id = m[1];
    const page = `/o/acme/routes/${id}`;
    r = await get(r.location!, viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Route created\./);
    assert.match(r.html, /<h1>shop\.acme\.test<\/h1>/);
    assert.match(r.html, /data-route-status="error"/);
    assert.match(r.html, /no ingress is configured \(CAPSTAN_CADDY_ADMIN\)/);
    assert.match(r.html, /Visitors sign in with basic auth as ops/);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop">shop</, "the target links to the app");
    assert.match(r.html, /data-tls="internal"/);
    assert.match(
      r.html,
      /ingress&#39;s public addresses are not set yet|public addresses are not set/,
    );
    assert.doesNotMatch(r.html, /Check DNS now/, "viewers get no buttons");
    const stored = await s.proxy.store.get(org.id, id);
    assert.equal(stored.spec.basic_auth?.username, "ops");

    // Check DNS now (members): without ingress addresses there is nothing to compare, said so.
    assert.equal((await post(`${page}/check-dns`, {}, viewer.cookie)).status, 403);
    r = await post(`${page}/check-dns`, {}, member.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, `${page}?done=checked`);
    r = await get(r.location!, member.cookie);
    assert.match(r.html, /DNS checked and certificates read\./);
    assert.match(r.html, /data-dns="pending"/);
    assert.match(r.html, /the ingress addresses are not set/);

    // The records to create once the ingress addresses are set.
    await s.proxy.store.saveSettings({
      ...(await s.proxy.store.settings()),
      ingress: { ipv4: ["203.0.113.10"], ipv6: [] },
    });
    r = await get(page, member.cookie);
    assert.match(
      r.html,
      /<td>A<\/td><td><code>shop\.acme\.test<\/code><\/td><td><code>203\.0\.113\.10</,
    );
    assert.match(r.html, /Check DNS now/);

    // A hostname is one route's in the whole install.
    r = await post("/o/acme/routes/new", { ...GOOD, hostnames: "shop.acme.test" }, member.cookie);
    assert.equal(r.status, 409);
    assert.match(fieldError(r.html, "hostnames") ?? "", /in use by another route/);

    // The edit form, prefilled, without the password; a blank password keeps the stored hash.
    r = await get(`${page}/edit`, member.cookie);
    assert.equal(r.status, 200);
    assert.equal(textareaValue(r.html, "hostnames"), GOOD.hostnames);
    assert.equal(inputValue(r.html, "auth_username"), "ops");
    assert.equal(inputValue(r.html, "auth_password"), undefined);
    assert.match(r.html, /Leave blank to keep the current password/);
    r = await post(`${page}/edit`, {
      ...GOOD,
      hostnames: "shop.acme.test",
      auth_password: "",
      path_prefix: "/api",
      strip_prefix: "on",
    }, member.cookie);
    assert.equal(r.status, 303, r.html.slice(0, 400));
    assert.equal(r.location, `${page}?done=saved`);
    const edited = await s.proxy.store.get(org.id, id);
    assert.equal(edited.spec.basic_auth?.bcrypt, stored.spec.basic_auth?.bcrypt);
    assert.deepEqual(edited.spec.hostnames, ["shop.acme.test"]);
    assert.equal(edited.spec.path_prefix, "/api");
    r = await get(`${page}?done=saved`, member.cookie);
    assert.match(r.html, /Route saved\./);
    assert.match(
      r.html,
      /Requests for shop\.acme\.test under <code>\/api<\/code> go to <span><a href="\/o\/acme\/apps\/shop">shop<\/a>/,
    );
    assert.match(r.html, /, with the prefix stripped\./);

    // The app page lists the route with its hostname and offers another.
    r = await get("/o/acme/apps/shop", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="https:\/\/shop\.acme\.test\/api"/, "internal CA: https");
    assert.match(r.html, /href="\/o\/acme\/routes\/new\?app=shop">Add a route</);

    // Another organization's route is not there; viewers cannot edit or delete.
    assert.equal((await get(page, eve.cookie)).status, 404);
    assert.equal((await get(`${page}/edit`, viewer.cookie)).status, 403);
    assert.equal((await post(`${page}/delete`, {}, viewer.cookie)).status, 403);

    // Delete after a confirmation.
    r = await get(`${page}/delete`, member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Delete the route of shop\.acme\.test\?/);
    r = await post(`${page}/delete`, {}, member.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/routes?done=deleted");
    r = await get(r.location!, member.cookie);
    assert.match(r.html, /Route deleted\./);
    assert.equal((await get(page, member.cookie)).status, 404);
    const actions = (await s.db.selectFrom("audit_log").select("action").where(
      "org_id",
      "=",
      org.id,
    ).execute()).map((a) => a.action);
    for (const a of ["route.create", "route.update", "route.delete"]) {
      assert.ok(actions.includes(a), `${a} audited`);
    }
  },
);

dbTest(
  "[e2e] proxy pages: the list's search and next page; Settings → Proxy for platform admins only, its refusals and its audit",
  async (h) => {
    const { s, org, get, post, owner, root } = await setup(h);
    for (let i = 0; i < 27; i++) {
      const { basic_auth: _none, ...spec } = RouteSpec.parse({
        hostnames: [`site${String(i).padStart(2, "0")}.acme.test`],
        target: { kind: "app", app: "shop", service: "web", port: 8080 },
      });
      await s.proxy.store.create(org.id, spec, null, () => "pending_dns");
    }
    let r = await get("/o/acme/routes", owner.cookie);
    assert.equal(r.status, 200);
    assert.equal((r.html.match(/data-route-row=/g) ?? []).length, 25);
    assert.match(r.html, /data-route-row="site26\.acme\.test"/, "newest first");
    assert.match(r.html, /data-tls="pending_dns"/);
    const next = /rel="next" href="([^"]+)"/.exec(r.html)?.[1];
    assert.ok(next, "a next page");
    r = await get(unescape(next), owner.cookie);
    assert.equal((r.html.match(/data-route-row=/g) ?? []).length, 2);
    assert.match(r.html, /data-route-row="site00\.acme\.test"/);
    assert.doesNotMatch(r.html, /rel="next"/);
    r = await get("/o/acme/routes?q=site07", owner.cookie);
    assert.equal((r.html.match(/data-route-row=/g) ?? []).length, 1);
    r = await get("/o/acme/routes?q=nothing-like-it", owner.cookie);
    assert.match(r.html, /No routes match this search/);

    // A platform admin's route to an external URL: members see it as it is in the edit form (not
    // silently another target), and saving it is refused to them.
    let made = await post("/o/acme/routes/new", {
      hostnames: "legacy.acme.test",
      target: "url",
      target_url: "http://192.0.2.7:8080",
      https_redirect: "on",
      www: "none",
    }, root.cookie);
    assert.equal(made.status, 303, made.html.slice(0, 300));
    const legacy = made.location!.split("?")[0];
    r = await get(`${legacy}/edit`, owner.cookie);
    assert.match(r.html, /<option value="url" selected/);
    assert.equal(inputValue(r.html, "target_url"), "http://192.0.2.7:8080");
    made = await post(`${legacy}/edit`, {
      hostnames: "legacy.acme.test",
      target: "url",
      target_url: "http://192.0.2.7:8080",
    }, owner.cookie);
    assert.equal(made.status, 403);
    assert.match(made.html, /Only platform admins may route to an external URL/);

    // Settings → Proxy: not for org owners (not even the tab), for platform admins.
    assert.equal((await get("/o/acme/settings/proxy", owner.cookie)).status, 404);
    assert.equal((await post("/o/acme/settings/proxy", {}, owner.cookie)).status, 404);
    assert.equal((await post("/o/acme/settings/proxy/regenerate", {}, owner.cookie)).status, 404);
    r = await get("/o/acme/settings/cluster", root.cookie);
    assert.match(r.html, /href="\/o\/acme\/settings\/proxy"[^>]*>Proxy</, "the tab");
    r = await get("/o/acme/settings/proxy", root.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /<option value="caddy" selected/);
    assert.match(r.html, /data-fact="ingress-configured">No: set CAPSTAN_CADDY_ADMIN/);
    assert.match(r.html, /Let&#39;s Encrypt staging|Let's Encrypt staging/);

    const form = {
      provider: "caddy",
      default_domain: "apps.acme.test",
      default_tls: "internal",
      acme_email: "ops@acme.test",
      acme_ca_choice: "staging",
      acme_ca: "",
      ingress_addresses: "203.0.113.10\n2001:db8::10",
      ingress_cname: "ingress.acme.test",
      traefik_dir: "",
    };
    r = await post("/o/acme/settings/proxy", {
      ...form,
      ingress_addresses: "203.0.113.10\nnot-an-address",
      acme_email: "nobody",
    }, root.cookie);
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "ingress_addresses", "px"), "the address's message");
    assert.ok(fieldError(r.html, "acme_email", "px"), "the e-mail's message");
    assert.equal(textareaValue(r.html, "ingress_addresses"), "203.0.113.10\nnot-an-address");

    r = await post("/o/acme/settings/proxy", { ...form, acme_ca_choice: "custom" }, root.cookie);
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "acme_ca", "px"), "Is required with Another CA");

    // Saved (and said that no ingress loaded it); the form shows what was stored.
    r = await post("/o/acme/settings/proxy", form, root.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Saved, but the ingress did not load it: no ingress is configured/);
    const saved = await s.proxy.store.settings();
    assert.equal(saved.default_domain, "apps.acme.test");
    assert.equal(saved.acme_ca, "https://acme-staging-v02.api.letsencrypt.org/directory");
    assert.deepEqual(saved.ingress, {
      ipv4: ["203.0.113.10"],
      ipv6: ["2001:db8::10"],
      cname: "ingress.acme.test",
    });
    assert.match(r.html, /<option value="staging" selected/);
    assert.match(r.html, /data-fact="last-load"><span class="badge badge-error">error/);
    r = await post("/o/acme/settings/proxy/regenerate", {}, root.cookie);
    assert.match(r.html, /The ingress did not load: no ingress is configured/);
    const actions = (await s.db.selectFrom("audit_log").select("action").execute())
      .map((a) => a.action);
    assert.ok(actions.includes("proxy.settings"));
    assert.ok(actions.includes("proxy.regenerate"));
  },
);
