import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { templateCaller } from "../../../../../lib/http/callers.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import { FormAlert, type FormState } from "../../../../../components/Field.tsx";
import { errorsOf } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, templateHref, templatesBase, usedText } from "../_template.tsx";
import { templateOf } from "../[id].tsx";

const PATH = "/o/:org/templates/:id/delete";

type Found = Awaited<ReturnType<typeof templateOf>>;

/** The confirmation; a refusal (an app made from it still exists) is said on it. */
function confirmPage(c: AppContext, t: Found, form: FormState = {}, status = 200) {
  const self = templateHref(c, t.id);
  return render(
    c,
    <ConfirmForm
      title={`Delete template ${t.name}?`}
      action={`${self}/delete`}
      confirm="Delete template"
      cancelHref={self}
      options={<FormAlert errors={form.errors} />}
    >
      <p>
        The template <code>{t.id}</code>{" "}
        ({usedText(t.used)}) leaves this organization's library. It cannot be deleted while an app
        made from it exists: deprovision those apps first.
      </p>
    </ConfirmForm>,
    { title: `Delete ${t.name}`, active: "templates", status },
  );
}

/** `GET/POST /o/:org/templates/:id/delete`: delete an organization template (admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:admin", async (c) => {
    const t = await templateOf(c);
    if (t.source === "builtin") {
      return confirmPage(c, t, { errors: { _form: "Built-in templates are read-only." } }, 403);
    }
    return confirmPage(c, t);
  });

  page(app, "POST", PATH, "org:admin", async (c) => {
    const t = await templateOf(c);
    try {
      await c.var.services.templates.remove(templateCaller(c), t.id);
    } catch (err) {
      const e = actionError(err);
      return await confirmPage(c, t, { errors: errorsOf(e) }, e.status);
    }
    return seeOther(c, `${templatesBase(c)}?done=deleted`);
  });
}
