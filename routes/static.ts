/**
 * `/static/*` (files of static/, cached by content hash) and `/_islands/*` (built island bundles).
 * Both are public: nothing in them is specific to a user.
 */
import type { Hono } from "hono";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { AppEnv } from "../lib/http/context.ts";
import { declare } from "../lib/http/policy.ts";
import { islandAssetHandler } from "../lib/islands/static.ts";
import type { PageKit } from "./_render.tsx";

const STATIC_DIR = fileURLToPath(new URL("../static/", import.meta.url));
const DEFAULT_ISLANDS_DIR = join(STATIC_DIR, "_islands");

/** Flat names only: no folders (so static/_islands is not reachable here), no dot files. */
const NAME_RE = /^[a-z0-9][a-z0-9_-]*\.(css|svg|png|ico|txt|woff2)$/;
const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  woff2: "font/woff2",
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  hash: string;
  type: string;
  mtime: number;
}

const assets = new Map<string, Asset>();

/**
 * A static file from memory, re-read when its modification time changes (so an edited stylesheet
 * shows up on the next page load without a restart); null when missing or its name not allowed.
 */
function asset(name: string): Asset | null {
  if (!NAME_RE.test(name)) return null;
  const path = join(STATIC_DIR, name);
  let mtime: number;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) return null;
    mtime = info.mtime?.getTime() ?? 0;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const cached = assets.get(name);
  if (cached && cached.mtime === mtime) return cached;
  const body = Deno.readFileSync(path) as Uint8Array<ArrayBuffer>;
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const fresh = { body, hash, type: TYPES[name.split(".").pop()!], mtime };
  assets.set(name, fresh);
  return fresh;
}

/** URL of a static file with its content hash, so browsers may cache it for a year. */
export function assetUrl(name: string): string {
  const a = asset(name);
  return a ? `/static/${name}?v=${a.hash}` : `/static/${name}`;
}

/** Registers the asset routes. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  declare({ method: "GET", path: "/static/*", policy: "public", kind: "asset" });
  app.get("/static/*", (c) => {
    const a = asset(c.req.path.slice("/static/".length));
    if (!a) return c.text("Not Found", 404);
    const etag = `"${a.hash}"`;
    // A URL carrying the current hash can never change; a bare one must be revalidated.
    const cache = c.req.query("v") === a.hash
      ? "public, max-age=31536000, immutable"
      : "public, max-age=0, must-revalidate";
    const headers = { "content-type": a.type, "cache-control": cache, etag };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    return c.body(a.body, 200, headers);
  });

  declare({ method: "GET", path: "/_islands/*", policy: "public", kind: "asset" });
  app.get("/_islands/*", islandAssetHandler(kit.islandsDir ?? DEFAULT_ISLANDS_DIR));
}
