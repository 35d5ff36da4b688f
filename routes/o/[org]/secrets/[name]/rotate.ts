import type { Hono } from "hono";
import type { AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { secretCaller } from "../../../../../lib/http/callers.ts";
import { errorsOf } from "../../../../_forms.ts";
import { seeOther } from "../../../../_render.tsx";
import { actionError, readSecretForm, secretFormErrors, secretHref, valueOf } from "../_secret.tsx";
import { secretPage } from "../[name].tsx";

/**
 * `POST /o/:org/secrets/:name/rotate` (organization admins): a new version from a pasted value or
 * a file, picked up by the apps that use it as the chosen rotation says; answered once their
 * restarts have been started. A refusal shows the secret's page again with the rotation kept and
 * the value not.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/o/:org/secrets/:name/rotate", "org:admin", async (c) => {
    const name = c.req.param("name") ?? "";
    const form = await readSecretForm(c);
    const values = { rotation: form.values.rotation ?? "rolling" };
    const value = await valueOf(form);
    if (!value.ok) {
      return await secretPage(c, { rotate: { values, errors: value.errors }, status: 400 });
    }
    try {
      const r = await c.var.services.secrets.update(secretCaller(c), name, {
        ...value.input,
        rotation: values.rotation,
      });
      return seeOther(c, `${secretHref(c, r.secret.name)}?done=rotated_${r.mode}`);
    } catch (err) {
      const e = actionError(err);
      // An unknown secret is the error page's 404, not a form message.
      if (e.status === 404) throw err;
      const errors = e.fields && Object.keys(e.fields).length
        ? secretFormErrors(e.fields)
        : errorsOf(e);
      // A conflict (a binary value for an environment variable) is said above the form too.
      if (e.status === 409) errors._form ??= e.message;
      return await secretPage(c, { rotate: { values, errors }, status: e.status });
    }
  });
}
