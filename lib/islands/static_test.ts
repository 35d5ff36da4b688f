import assert from "node:assert/strict";
import { join } from "node:path";
import { Hono } from "hono";
import { islandAssetHandler, serveIslandAsset } from "./static.ts";

async function fixture(): Promise<{ root: string; outDir: string }> {
  const root = await Deno.makeTempDir({ prefix: "capstan-islands-static-" });
  const outDir = join(root, "_islands");
  await Deno.mkdir(join(outDir, "sub"), { recursive: true });
  await Deno.writeTextFile(join(outDir, "boot-0123abcd.js"), "export const x = 1;");
  await Deno.writeTextFile(join(outDir, "chunk-89abcdef.js"), "export const y = 2;");
  await Deno.writeTextFile(join(outDir, "dev.js"), "export const z = 3;");
  await Deno.writeTextFile(join(outDir, "manifest.json"), "{}");
  await Deno.writeTextFile(join(outDir, "sub/inner-0123abcd.js"), "inner");
  await Deno.writeTextFile(join(root, "secret.js"), "TOP SECRET");
  await Deno.symlink(join(root, "secret.js"), join(outDir, "link-0123abcd.js"));
  return { root, outDir };
}

Deno.test("serveIslandAsset() serves hashed files as immutable JavaScript", async () => {
  const { root, outDir } = await fixture();
  try {
    const res = await serveIslandAsset(outDir, "boot-0123abcd.js");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await res.text(), "export const x = 1;");

    const dev = await serveIslandAsset(outDir, "/dev.js");
    assert.equal(dev.headers.get("cache-control"), "no-cache", "unhashed names may change");
    await dev.body?.cancel();

    const head = await serveIslandAsset(outDir, "chunk-89abcdef.js", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "19");
    assert.equal(head.body, null);

    const post = await serveIslandAsset(outDir, "chunk-89abcdef.js", "POST");
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serveIslandAsset() refuses traversal, odd names and links leading outside", async () => {
  const { root, outDir } = await fixture();
  try {
    for (
      const name of [
        "../secret.js",
        "..%2fsecret.js",
        "%2e%2e/secret.js",
        "..\\secret.js",
        "sub/inner-0123abcd.js",
        ".hidden.js",
        "manifest.json",
        "missing-0123abcd.js",
        "link-0123abcd.js",
        `${root}/secret.js`,
        "boot-0123abcd.js\0.js",
        "",
        "..",
      ]
    ) {
      const res = await serveIslandAsset(outDir, name);
      const body = await res.text();
      assert.equal(res.status, 404, name);
      assert.ok(!body.includes("SECRET"), name);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("islandAssetHandler() plugs into a Hono app under /_islands/*", async () => {
  const { root, outDir } = await fixture();
  try {
    const app = new Hono();
    app.get("/_islands/*", islandAssetHandler(outDir));
    const ok = await app.request("/_islands/boot-0123abcd.js");
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "export const x = 1;");
    for (
      const path of [
        "/_islands/..%2fsecret.js",
        "/_islands/%2e%2e%2fsecret.js",
        "/_islands/sub%2finner-0123abcd.js",
      ]
    ) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      assert.ok(!(await res.text()).includes("SECRET"), path);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
