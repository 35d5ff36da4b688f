import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { secretCaller } from "../../../../lib/http/callers.ts";
import { SecretName } from "../../../../lib/secrets/service.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { FormAlert, type FormState, TextField } from "../../../../components/Field.tsx";
import { SecretValueField } from "../../../../components/SecretFields.tsx";
import { errorsOf } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import {
  actionError,
  newSecretHref,
  readSecretForm,
  secretFormErrors,
  secretHref,
  secretsBase,
  valueOf,
} from "./_secret.tsx";

/**
 * The form: name, description and the value. After a refused submission the name and description
 * come back; the value never does (the page says so).
 */
function formPage(c: AppContext, form: FormState = {}, status = 200) {
  const base = secretsBase(c);
  const retry = Boolean(form.errors);
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Secrets</a>
      </nav>
      <PageHeader
        title="New secret"
        sub={<>For {orgScopeOf(c).org.name}; apps get it once you attach it in their settings.</>}
      />
      <form
        method="post"
        action={newSecretHref(c)}
        enctype="multipart/form-data"
        class="card form secret-form"
      >
        <FormAlert errors={form.errors} />
        <TextField
          name="name"
          label="Name"
          required
          autofocus
          maxLength={64}
          autocomplete="off"
          placeholder="DATABASE_PASSWORD"
          hint="Letters, digits and _, not starting with a digit; it is also the default variable and file name. It cannot be changed later."
          values={form.values}
          errors={form.errors}
          idPrefix="secret"
        />
        <TextField
          name="description"
          label="Description"
          maxLength={500}
          autocomplete="off"
          placeholder="The primary database's password for the shop"
          hint="Optional: what it is for, where it comes from."
          values={form.values}
          errors={form.errors}
          idPrefix="secret"
        />
        <SecretValueField errors={form.errors} retry={retry} />
        <div class="actions">
          <button class="btn btn-primary" type="submit">Create secret</button>
          <a class="btn btn-ghost" href={base}>Cancel</a>
        </div>
      </form>
    </>,
    // A form that takes a value: never cached, so Back does not bring back what was typed.
    { title: "New secret", active: "secrets", status, noStore: true },
  );
}

/** `GET/POST /o/:org/secrets/new-secret`: create a secret (organization admins). */
export function register(app: Hono<AppEnv>): void {
  const path = "/o/:org/secrets/new-secret";
  page(app, "GET", path, "org:admin", (c) => formPage(c));

  page(app, "POST", path, "org:admin", async (c) => {
    const form = await readSecretForm(c);
    // Only these come back into the page: never the value.
    const values = { name: form.values.name ?? "", description: form.values.description ?? "" };
    const value = await valueOf(form);
    if (!value.ok) {
      // The name's mistake is said in the same answer, not one submission later.
      const name = SecretName.safeParse(values.name.trim());
      const errors = name.success
        ? value.errors
        : { name: name.error.issues[0].message, ...value.errors };
      return await formPage(c, { values, errors }, 400);
    }
    try {
      const created = await c.var.services.secrets.create(secretCaller(c), {
        name: values.name.trim(),
        description: values.description.trim(),
        ...value.input,
      });
      return seeOther(c, `${secretHref(c, created.name)}?done=created`);
    } catch (err) {
      const e = actionError(err);
      const errors = e.fields && Object.keys(e.fields).length
        ? secretFormErrors(e.fields)
        : errorsOf(e);
      return await formPage(c, { values, errors }, e.status);
    }
  });
}
