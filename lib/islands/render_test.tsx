import assert from "node:assert/strict";
import TestCounter from "./testdata/_TestCounter.tsx";
import { testIsland } from "./test_islands.ts";
import type { IslandManifest } from "./manifest.ts";
import { renderDocument } from "./render.tsx";

const Counter = testIsland("_TestCounter", TestCounter);

const manifest: IslandManifest = {
  version: 1,
  inputHash: "x",
  publicPath: "/_islands/",
  boot: "/_islands/boot-00000001.js",
  islands: { _TestCounter: "/_islands/_TestCounter-00000002.js" },
  imports: {
    "/_islands/boot-00000001.js": ["/_islands/chunk-00000003.js"],
    "/_islands/_TestCounter-00000002.js": ["/_islands/chunk-00000003.js"],
  },
};

const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;

Deno.test("renderDocument() wraps the page in a full document", () => {
  const html = renderDocument(<main>Hello & bye</main>, {
    title: "Hosts <all>",
    manifest: null,
    head: <link rel="stylesheet" href="/app.css" />,
    htmlAttrs: { "data-theme": "dark" },
    bodyAttrs: { class: "page" },
  });
  assert.match(html, /^<!doctype html><html data-theme="dark" lang="en"><head>/);
  assert.match(html, /<meta charset="utf-8"\/?>/);
  assert.match(html, /<title>Hosts &lt;all><\/title>/);
  assert.match(html, /<link rel="stylesheet" href="\/app.css"\/?><\/head>/);
  assert.match(html, /<body class="page"><main>Hello &amp; bye<\/main><\/body><\/html>$/);
});

Deno.test("renderDocument() ships no JavaScript for a page without islands", () => {
  const html = renderDocument(<main>static</main>, { title: "t", manifest, lang: "de" });
  assert.match(html, /<html lang="de">/);
  assert.equal(count(html, /<script/g), 0);
  assert.equal(count(html, /modulepreload/g), 0);
});

Deno.test("renderDocument() adds exactly one module script that boots only the used islands", () => {
  const html = renderDocument(
    <main>
      <Counter start={1} label="a" />
      <Counter start={2} label="b" />
    </main>,
    { title: "t", manifest, nonce: "n0nce" },
  );
  assert.equal(count(html, /<script/g), 1);
  const script = html.match(/<script type="module" nonce="n0nce">(.*?)<\/script>/)![1];
  assert.equal(
    script,
    'import{boot}from"/_islands/boot-00000001.js";' +
      'boot({"_TestCounter":"/_islands/_TestCounter-00000002.js"});',
  );
  // The script comes last in <body>, after the markup it hydrates.
  assert.match(html, /<\/capstan-island><\/main><script[^>]*>.*<\/script><\/body><\/html>$/);
  // Boot, island and their shared chunk are preloaded once each.
  for (const url of ["boot-00000001", "_TestCounter-00000002", "chunk-00000003"]) {
    assert.equal(
      count(html, new RegExp(`<link rel="modulepreload" href="/_islands/${url}.js"`, "g")),
      1,
    );
  }
});

Deno.test("renderDocument() keeps a hostile prop and manifest URL inside their elements", () => {
  const evil = {
    ...manifest,
    islands: { _TestCounter: "/_islands/x</script><script>alert(1)//.js" },
  };
  const html = renderDocument(
    <Counter start={0} label={`</script><script>alert("p")</script>`} />,
    {
      title: "t",
      manifest: evil,
    },
  );
  assert.equal(count(html, /<script/g), 1);
  assert.equal(count(html, /<\/script>/g), 1);
  assert.ok(html.includes("\\u003c/script>\\u003cscript>alert(1)//.js"));
});

Deno.test("renderDocument() names the missing manifest or island instead of rendering dead markup", () => {
  assert.throws(
    () => renderDocument(<Counter start={0} label="x" />, { title: "Home", manifest: null }),
    /Cannot render page "Home": it uses islands \(_TestCounter\) but no islands manifest was given/,
  );
  assert.throws(
    () =>
      renderDocument(<Counter start={0} label="x" />, {
        title: "Home",
        manifest: { ...manifest, islands: {} },
      }),
    /island "_TestCounter" is missing from the islands manifest/,
  );
});

Deno.test("renderDocument() keeps concurrent requests' island sets apart", async () => {
  // Interleave many async "requests": each render is synchronous, so no collector can leak.
  const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i % 3));
    const page = i % 2 ? <Counter start={i} label="x" /> : <p>{i}</p>;
    return [i, renderDocument(page, { title: "t", manifest })] as const;
  }));
  for (const [i, html] of results) assert.equal(count(html, /<script/g), i % 2);
});
