/**
 * Serves built island files (`/_islands/*`). Names are checked against a strict allowlist before
 * touching the file system, so no request can reach outside the out dir.
 */
import { join, resolve, sep } from "node:path";

/** Only flat names of our own outputs: no slashes, no leading dot, no "..", no percent escapes. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.js$/;
/** Files renamed by buildIslands() to a content hash never change, so browsers may cache forever. */
const HASHED_RE = /-[0-9a-f]{8}\.js$/;

/** Serves `name` (the path below the `/_islands/` prefix) from `outDir` as a GET/HEAD response. */
export async function serveIslandAsset(
  outDir: string,
  name: string,
  method = "GET",
): Promise<Response> {
  if (method !== "GET" && method !== "HEAD") {
    return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (name.startsWith("/")) name = name.slice(1);
  if (!NAME_RE.test(name) || name.includes("..")) return notFound();
  const dir = resolve(outDir);
  const path = join(dir, name);
  let body: Uint8Array;
  try {
    // A symlink planted in the out dir must not lead outside it either.
    const real = await Deno.realPath(path);
    if (!real.startsWith((await Deno.realPath(dir)) + sep)) return notFound();
    body = await Deno.readFile(real);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.IsADirectory) {
      return notFound();
    }
    throw err;
  }
  const headers = new Headers({
    "content-type": "text/javascript; charset=utf-8",
    "content-length": String(body.byteLength),
    "cache-control": HASHED_RE.test(name) ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  return new Response(method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, { headers });
}

/**
 * A Hono-compatible handler for `app.get("/_islands/*", islandAssetHandler(outDir))`; typed
 * structurally so this module does not depend on Hono.
 */
export function islandAssetHandler(
  outDir: string,
  prefix = "/_islands/",
): (c: { req: { path: string; method: string } }) => Promise<Response> {
  return function islandAssets(c) {
    const { path, method } = c.req;
    if (!path.startsWith(prefix)) return Promise.resolve(notFound());
    return serveIslandAsset(outDir, path.slice(prefix.length), method);
  };
}

function notFound(): Response {
  return new Response("Not Found", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
