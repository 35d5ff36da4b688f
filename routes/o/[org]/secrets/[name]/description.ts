import type { Hono } from "hono";
import type { AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { secretCaller } from "../../../../../lib/http/callers.ts";
import { errorsOf, readForm } from "../../../../_forms.ts";
import { seeOther } from "../../../../_render.tsx";
import { actionError, secretHref } from "../_secret.tsx";
import { secretPage } from "../[name].tsx";

/**
 * `POST /o/:org/secrets/:name/description` (organization admins): changes what the secret says it
 * is for; the value and its version stay as they are.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/o/:org/secrets/:name/description", "org:admin", async (c) => {
    const name = c.req.param("name") ?? "";
    const values = { description: (await readForm(c)).description ?? "" };
    try {
      await c.var.services.secrets.update(secretCaller(c), name, {
        description: values.description.trim(),
      });
      return seeOther(c, `${secretHref(c, name)}?done=described`);
    } catch (err) {
      const e = actionError(err);
      if (e.status === 404) throw err;
      return await secretPage(c, { describe: { values, errors: errorsOf(e) }, status: e.status });
    }
  });
}
