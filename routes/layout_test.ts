/**
 * The layout of routes/ as README "Routes are thin" states it: a page's file is named by its URL
 * and registers only paths at or below it; every page file is in the static registry; pages import
 * no API file; the API's organization resources are under /api/v1/orgs/{org}, apart from the
 * deprecated aliases of the previous release.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppEnv } from "../lib/http/context.ts";
import { createApiApp } from "../lib/http/openapi.ts";
import { declaredRoutes } from "../lib/http/policy.ts";
import { pageRoutes } from "./mod.ts";
const pageModules = Object.values(pageRoutes).flat();
import { apiRoutes } from "./api/v1/mod.ts";
const apiModules = Object.values(apiRoutes).flat();
import { REPLACED_BY } from "./api/v1/deprecated.ts";
import type { PageKit } from "./_render.tsx";

const ROOT = fileURLToPath(new URL(".", import.meta.url));
/** Not pages: assets (the static files and built islands), served below their own prefixes. */
const NOT_PAGES = new Set(["static.ts"]);
// One rendered settings panel, so the settings frame registers its page.
const KIT: PageKit = {
  manifest: null,
  openapi: () => ({}),
  nav: [],
  settings: [{ id: "about", title: "About", render: () => null }],
};

/** Route files below routes/ (`_` files and folders are helpers, `api/` is the API). */
async function routeFiles(dir = ROOT): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("_") || e.name.endsWith("_test.ts")) continue;
    const path = `${dir}${e.name}`;
    if (e.isDirectory) {
      if (path !== `${ROOT}api`) out.push(...await routeFiles(`${path}/`));
    } else if (/\.tsx?$/.test(e.name) && path !== `${ROOT}mod.ts`) {
      out.push(relative(ROOT, path));
    }
  }
  return out.sort();
}

/** The URL a page file names: `o/[org]/hosts/[hostId].tsx` → `/o/:org/hosts/:hostId`. */
function urlOf(file: string): string {
  const parts = file.replace(/\.tsx?$/, "").split("/");
  if (parts.at(-1) === "index") parts.pop();
  return "/" + parts.map((p) => p.replace(/^\[(\w+)\]$/, ":$1")).join("/");
}

/** Whether `path` is `url` or below it; a `:param` of the URL stands for any one segment. */
function atOrBelow(path: string, url: string): boolean {
  if (url === "/") return path === "/";
  const want = url.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  return got.length >= want.length && want.every((w, i) => w.startsWith(":") || w === got[i]);
}

Deno.test("routes/: every page file is registered and serves only paths at or below its URL", async () => {
  const problems: string[] = [];
  const files = (await routeFiles()).filter((f) => !NOT_PAGES.has(f));
  assert.ok(files.length >= 30, `expected the page files, found ${files.length}`);
  for (const file of files) {
    const mod = await import(`./${file}`);
    if (!pageModules.includes(mod)) problems.push(`${file}: not in routes/mod.ts`);
    const app = new Hono<AppEnv>();
    mod.register(app, KIT);
    const url = urlOf(file);
    const paths = [...new Set(app.routes.map((r) => r.path))];
    if (!paths.length) problems.push(`${file}: registers no route`);
    for (const p of paths) if (!atOrBelow(p, url)) problems.push(`${file} (${url}) serves ${p}`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("routes/: pages import no API route file", async () => {
  const problems: string[] = [];
  for (const file of await routeFiles()) {
    const text = await Deno.readTextFile(`${ROOT}${file}`);
    for (const m of text.matchAll(/from "([^"]+)"/g)) {
      if (/\/api\/v1\//.test(m[1])) problems.push(`${file} imports ${m[1]}`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("API: an organization's resources are under /api/v1/orgs/{org}, old paths only as deprecated aliases", () => {
  const api = createApiApp();
  for (const m of apiModules) m.register(api);
  const aliases = new Set(Object.keys(REPLACED_BY).map((p) => p.replace(/\{(\w+)\}/g, ":$1")));
  const paths = new Set(api.routes.map((r) => r.path));
  const problems: string[] = [];
  for (const r of declaredRoutes) {
    if (r.kind !== "api" || !paths.has(r.path) || aliases.has(r.path)) continue;
    // The Prometheus scrape keeps the path scrapers expect; its token names the organization.
    if (r.path === "/metrics") continue;
    // The topology answers one organization (`?org=<slug>`) or, to a platform admin's session
    // without it, the whole install (issue 22): one path for both scopes, like its realtime topic.
    if (r.path === "/api/v1/topology") continue;
    // A caller's own invitations name an organization (/api/v1/me/invitations/:org) but are theirs.
    // Platform-admin routes span organizations (the cluster's nodes are hosts of any of them).
    const ofOrg = r.policy.startsWith("org:") ||
      (/:hostId\b/.test(r.path) && r.policy !== "platform_admin");
    if (ofOrg && r.path !== "/api/v1/orgs/:org" && !r.path.startsWith("/api/v1/orgs/:org/")) {
      problems.push(`${r.method} ${r.path} [${r.policy}]`);
    }
  }
  assert.deepEqual(problems, []);
  for (const alias of aliases) assert.ok(paths.has(alias), `the alias ${alias} is still served`);
});
