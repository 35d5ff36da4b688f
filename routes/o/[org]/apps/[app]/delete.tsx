import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { appCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  TextField,
} from "../../../../../components/Field.tsx";
import { errorsOf, readForm } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, appHref, appOf, appsBase } from "../_app.tsx";

const PATH = "/o/:org/apps/:app/delete";

/** The confirmation: the app's name typed out, volumes kept unless asked. */
function confirmPage(c: AppContext, app: App, form: FormState = {}, status = 200) {
  const self = appHref(c, app);
  const volumes = [...new Set(app.spec.services.flatMap((s) => s.volumes.map((v) => v.name)))];
  return render(
    c,
    <ConfirmForm
      title={`Delete app "${app.name}"?`}
      action={`${self}/delete`}
      confirm="Delete app"
      cancelHref={self}
      options={
        <>
          <FormAlert errors={form.errors} />
          <TextField
            name="confirm_name"
            label={`Type ${app.name} to confirm`}
            required
            autocomplete="off"
            values={form.values}
            errors={form.errors}
            idPrefix="del"
          />
          <CheckboxField
            name="volumes"
            label={volumes.length
              ? `Also delete its volumes (${volumes.join(", ")})`
              : "Also delete its volumes"}
            hint="Left unticked, the volumes stay on their nodes with their data."
            values={form.values}
            idPrefix="del"
          />
        </>
      }
    >
      <p>
        Its {app.spec.services.length === 1 ? "service stops and is" : "services stop and are"}{" "}
        removed from the cluster with the app's network, its deployments and its timeline. This
        cannot be undone.
      </p>
    </ConfirmForm>,
    { title: `Delete ${app.name}`, active: "apps", status },
  );
}

/** `GET/POST /o/:org/apps/:app/delete`: delete an app after typing its name (members). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", async (c) => confirmPage(c, await appOf(c)));

  page(app, "POST", PATH, "org:member", async (c) => {
    const target = await appOf(c);
    const all = await readForm(c);
    const values = { confirm_name: all.confirm_name ?? "", volumes: all.volumes ?? "" };
    if (values.confirm_name.trim() !== target.name) {
      return await confirmPage(c, target, {
        values,
        errors: { confirm_name: `type the app's name, ${target.name}, exactly` },
      }, 400);
    }
    try {
      await c.var.services.apps.remove(appCaller(c), target, { volumes: all.volumes === "on" });
    } catch (err) {
      const e = actionError(err);
      return await confirmPage(c, target, { values, errors: errorsOf(e) }, e.status);
    }
    return seeOther(c, `${appsBase(c)}?done=deleted`);
  });
}
