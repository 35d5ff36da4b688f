/**
 * Switching the provider to Traefik: every route is written at once as Traefik v3 file-provider
 * YAML, one file per organization in the configured directory; a later route change rewrites it;
 * the same routes download as a Caddyfile; and a Traefik provider without a directory says so on
 * the routes instead of failing silently.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";

// deno-lint-ignore no-explicit-any
type Answer = { status: number; body: any };

dbTest(
  "[e2e] proxy provider: switching to Traefik writes every route as YAML per organization; the Caddyfile downloads",
  async (h) => {
    const dir = await Deno.makeTempDir({ prefix: "capstan-traefik-" });
    const t = testApp(h);
    try {
      const root = await t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
      const admin = await t.user("admin@x.io", { org: "acme", role: "admin" });
      const call = async (method: string, path: string, json?: unknown): Promise<Answer> => {
        const res = await t.request(path, { method, cookie: root.cookie, json });
        const text = await res.text();
        return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
      };
      const target = { kind: "url", url: "http://127.0.0.1:9/" };
      const made = await call("POST", "/api/v1/orgs/acme/routes", {
        hostnames: ["shop.example.test"],
        target,
        basic_auth: { username: "ops", password: "correct horse" },
      });
      assert.equal(made.status, 201);
      assert.equal(made.body.applied.ok, false, "no Caddy configured");
      assert.match(made.body.route.last_error, /no ingress is configured/);

      // Traefik without a directory: said on the route.
      const noDir = await call("PUT", "/api/v1/proxy/settings", { provider: "traefik" });
      assert.equal(noDir.body.applied.ok, false);
      assert.match(noDir.body.applied.error, /no output directory/);

      const s = await call("PUT", "/api/v1/proxy/settings", {
        provider: "traefik",
        traefik_dir: dir,
        traefik_cert_resolver: "le",
      });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      assert.equal(s.body.applied.ok, true, JSON.stringify(s.body.applied));
      const org = (await t.services.orgs.bySlug("acme"))!;
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.equal(files.length, 1, files.join(", "));
      const yaml = parse(await Deno.readTextFile(`${dir}/${files[0]}`));
      const rules = Object.values(yaml.http.routers).map((r) => (r as { rule: string }).rule);
      assert.ok(rules.some((r) => r.includes("Host(`shop.example.test`)")), rules.join(" | "));
      assert.ok(files[0].includes(org.id));
      const route = (await call("GET", `/api/v1/orgs/acme/routes/${made.body.route.id}`)).body;
      assert.equal(route.status, "active", "written for Traefik");

      // A change rewrites the file; no password anywhere but its bcrypt hash.
      await call("PUT", `/api/v1/orgs/acme/routes/${made.body.route.id}`, {
        hostnames: ["shop.example.test", "www.example.test"],
        target,
      });
      const again = await Deno.readTextFile(`${dir}/${files[0]}`);
      assert.match(again, /www\.example\.test/);
      assert.doesNotMatch(again, /correct horse/);

      // The Caddyfile, for platform admins.
      const caddyfile = await t.request("/api/v1/proxy/caddyfile", { cookie: root.cookie });
      assert.equal(caddyfile.status, 200);
      assert.match(caddyfile.headers.get("content-disposition") ?? "", /Caddyfile/);
      assert.match(await caddyfile.text(), /shop\.example\.test/);
      assert.equal(
        (await t.request("/api/v1/proxy/caddyfile", { cookie: admin.cookie })).status,
        403,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
