/**
 * Renders a page to a complete HTML document. JavaScript is added only when the page rendered at
 * least one island: a page without islands ships no script tag at all.
 */
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { collectIslands } from "./island.tsx";
import type { IslandManifest } from "./manifest.ts";

/** Attribute values accepted on `<html>` and `<body>`. */
export type DocumentAttrs = Record<string, string | number | boolean | undefined>;

/** Options of `renderDocument()`. */
export interface RenderDocumentOptions {
  /** Text of `<title>` (escaped). */
  title: string;
  /** Extra elements for `<head>` (stylesheets, meta); rendered after title and preloads. */
  head?: ComponentChildren;
  /** Islands manifest from `buildIslands()`/`readManifest()`; may be null if the page has none. */
  manifest: IslandManifest | null;
  /** `<html lang>`; defaults to "en". */
  lang?: string;
  htmlAttrs?: DocumentAttrs;
  bodyAttrs?: DocumentAttrs;
  /** CSP nonce for the inline boot script (only emitted when islands are used). */
  nonce?: string;
}

/** Renders `page` inside a full `<!doctype html>` document, adding the island boot script if needed. */
export function renderDocument(page: ComponentChildren, options: RenderDocumentOptions): string {
  const { title, head, manifest, lang = "en", htmlAttrs, bodyAttrs, nonce } = options;
  // Render the body first: only after it do we know which islands the page used.
  const { result: body, islands } = collectIslands(() => renderToString(<>{page}</>));

  let script = "";
  let preloads: string[] = [];
  if (islands.size > 0) {
    if (!manifest) {
      throw new Error(
        `Cannot render page "${title}": it uses islands (${[...islands].join(", ")}) but no ` +
          `islands manifest was given; run \`deno task build\``,
      );
    }
    const urls: Record<string, string> = {};
    for (const name of islands) {
      const url = manifest.islands[name];
      if (!url) {
        throw new Error(
          `Cannot render page "${title}": island "${name}" is missing from the islands ` +
            `manifest; run \`deno task build\``,
        );
      }
      urls[name] = url;
    }
    preloads = importClosure([manifest.boot, ...Object.values(urls)], manifest.imports);
    const code = `import{boot}from${scriptJson(manifest.boot)};boot(${scriptJson(urls)});`;
    script = renderToString(
      <script type="module" nonce={nonce} dangerouslySetInnerHTML={{ __html: code }} />,
    );
  }

  const doc = renderToString(
    <html {...htmlAttrs} lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        {preloads.map((href) => <link key={href} rel="modulepreload" href={href} />)}
        {head}
      </head>
      <body {...bodyAttrs} dangerouslySetInnerHTML={{ __html: body + script }} />
    </html>,
  );
  return `<!doctype html>${doc}`;
}

/**
 * JSON for inside an inline `<script>`: `<` is escaped so no string can close the element, and
 * U+2028/2029 so older parsers do not see a line break inside a string literal.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** All modules `roots` load statically, so the browser can fetch them in parallel up front. */
function importClosure(roots: string[], imports: Record<string, string[]>): string[] {
  const seen = new Set<string>();
  const visit = (url: string) => {
    if (seen.has(url)) return;
    seen.add(url);
    for (const dep of imports[url] ?? []) visit(dep);
  };
  roots.forEach(visit);
  return [...seen];
}
