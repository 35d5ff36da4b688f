import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { editorPage, editorPost, STARTER } from "./_editor.tsx";

/**
 * The YAML of `from` with another id and name, for "Copy to edit": the top-level `id:` and
 * `name:` lines are rewritten in place, so comments and layout stay as they were.
 */
export function copySource(yaml: string, id: string, name: string): string {
  const copyId = `${id.slice(0, 35).replace(/-+$/, "")}-copy`;
  return yaml
    .replace(/^id:.*$/m, `id: ${copyId}`)
    .replace(/^name:.*$/m, `name: ${JSON.stringify(`${name} (copy)`)}`);
}

/** The starting text: a copy of `?from=` (a built-in or organization template), or the starter. */
async function startingSource(c: AppContext): Promise<string> {
  const from = c.req.query("from");
  if (!from) return STARTER;
  const t = await c.var.services.templates.get(orgScopeOf(c).org.id, from);
  return copySource(t.yaml, t.id, t.name);
}

/** `GET/POST /o/:org/templates/new`: write a template, check it and save it (admins). */
export function register(app: Hono<AppEnv>): void {
  const path = "/o/:org/templates/new";
  page(
    app,
    "GET",
    path,
    "org:admin",
    async (c) => editorPage(c, { state: { source: await startingSource(c) } }),
  );
  page(app, "POST", path, "org:admin", (c) => editorPost(c));
}
