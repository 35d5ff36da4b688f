import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { templateOf } from "../[id].tsx";
import { editorPage, editorPost } from "../_editor.tsx";

const PATH = "/o/:org/templates/:id/edit";

/** The editor for an organization template; a built-in opens read-only (403 on a save). */
async function editPage(c: AppContext) {
  const t = await templateOf(c);
  const who = { id: t.id, name: t.name };
  if (t.source === "builtin") return editorPage(c, { readOnly: who, state: { source: t.yaml } });
  return editorPage(c, { editing: who, state: { source: t.yaml } });
}

/** `GET/POST /o/:org/templates/:id/edit`: change an organization template (admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:admin", (c) => editPage(c));
  page(app, "POST", PATH, "org:admin", async (c) => {
    const t = await templateOf(c);
    if (t.source === "builtin") {
      return editorPage(c, {
        readOnly: { id: t.id, name: t.name },
        state: { source: t.yaml, error: "Built-in templates are read-only: copy it to edit." },
        status: 403,
      });
    }
    return await editorPost(c, { id: t.id, name: t.name });
  });
}
