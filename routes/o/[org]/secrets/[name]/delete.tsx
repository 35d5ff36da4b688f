import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { secretCaller } from "../../../../../lib/http/callers.ts";
import type { SecretView } from "../../../../../lib/secrets/service.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import { FormAlert, type FormState, TextField } from "../../../../../components/Field.tsx";
import { plural } from "../../../../../components/plural.ts";
import { errorsOf, readForm } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, secretHref, secretsBase } from "../_secret.tsx";
import { secretOf } from "../[name].tsx";

const PATH = "/o/:org/secrets/:name/delete";

/** The confirmation: the secret's name typed out; while an app uses it, which ones. */
function confirmPage(
  c: AppContext,
  s: SecretView & { versions: unknown[] },
  form: FormState = {},
  status = 200,
) {
  const self = secretHref(c, s.name);
  return render(
    c,
    <ConfirmForm
      title={`Delete secret ${s.name}?`}
      action={`${self}/delete`}
      confirm="Delete secret"
      cancelHref={self}
      options={
        <>
          <FormAlert errors={form.errors} />
          <TextField
            name="confirm_name"
            label={`Type ${s.name} to confirm`}
            required
            autocomplete="off"
            values={form.values}
            errors={form.errors}
            idPrefix="del"
          />
        </>
      }
    >
      {s.used_by.length > 0 && !form.errors?._form && (
        <Alert kind="warn">
          {s.used_by.map((u) => u.app).join(", ")} {s.used_by.length === 1 ? "uses" : "use"}{" "}
          it: deleting is refused until it is detached in the app's settings.
        </Alert>
      )}
      <p>
        The secret and the {plural(s.versions.length, "version")}{" "}
        it keeps are deleted with its trail, and apps can no longer be given it. This cannot be
        undone.
      </p>
    </ConfirmForm>,
    { title: `Delete ${s.name}`, active: "secrets", status },
  );
}

/** `GET/POST /o/:org/secrets/:name/delete`: delete a secret after typing its name (admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:admin", async (c) => confirmPage(c, await secretOf(c)));

  page(app, "POST", PATH, "org:admin", async (c) => {
    const s = await secretOf(c);
    const values = { confirm_name: (await readForm(c)).confirm_name ?? "" };
    if (values.confirm_name.trim() !== s.name) {
      return await confirmPage(c, s, {
        values,
        errors: { confirm_name: `type the secret's name, ${s.name}, exactly` },
      }, 400);
    }
    try {
      await c.var.services.secrets.remove(secretCaller(c), s.name);
    } catch (err) {
      const e = actionError(err);
      return await confirmPage(c, s, { values, errors: errorsOf(e) }, e.status);
    }
    return seeOther(c, `${secretsBase(c)}?done=deleted`);
  });
}
