import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { appCaller } from "../../../../lib/http/callers.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { AppForm } from "../../../../components/AppForm.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { errorsOf, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { actionError, appsBase } from "./_app.tsx";
import {
  formErrorsOf,
  formFields,
  newAppValues,
  priorityFromForm,
  serviceFromForm,
} from "./_form.ts";
import { secretChoices, secretsHrefOf } from "./_secrets.ts";
import { APP_FORM_FIELDS, costEstimate, ONE_SERVICE } from "./_estimate.tsx";

const PATH = "/o/:org/apps/new";

/** The new-app form, blank (with defaults) or with the submitted input and its errors. */
async function formPage(c: AppContext, form: FormState = {}, status = 200) {
  const { org } = orgScopeOf(c);
  const base = appsBase(c);
  const values = form.values ?? newAppValues();
  const [cluster, { choices }, estimate] = await Promise.all([
    c.var.services.cluster.info(),
    secretChoices(c),
    costEstimate(c, { base: ONE_SERVICE, fields: APP_FORM_FIELDS, values }),
  ]);
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Apps</a>
      </nav>
      <PageHeader
        title="New app"
        sub={<>Runs on the cluster for {org.name}; deployed as soon as it is created.</>}
      />
      {!cluster && (
        <Alert kind="warn">
          There is no cluster yet, so apps cannot be deployed: a platform admin creates it in{" "}
          <a href={`/o/${encodeURIComponent(org.slug)}/settings/cluster`}>Settings → Cluster</a>.
        </Alert>
      )}
      <AppForm
        action={`${base}/new`}
        mode="new"
        routingMesh={cluster?.routing_mesh}
        secrets={choices}
        secretsHref={secretsHrefOf(c)}
        values={values}
        errors={form.errors}
        estimate={estimate}
      >
        <button class="btn btn-primary" type="submit">Create and deploy</button>
        {estimate && (
          // Re-renders the form with the estimate of what is typed (no JavaScript needed).
          <button class="btn" type="submit" name="then" value="preview" formnovalidate>
            Preview cost
          </button>
        )}
        <a class="btn" href={base}>Cancel</a>
      </AppForm>
    </>,
    { title: "New app", active: "apps", status },
  );
}

/** `GET/POST /o/:org/apps/new`: create an app and its first deployment (members). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", (c) => formPage(c));

  page(app, "POST", PATH, "org:member", async (c) => {
    const all = await readForm(c);
    const values = formFields(all);
    // "Preview cost": the same form again with the estimate of what is typed; nothing is created.
    if (all.then === "preview") return await formPage(c, { values });
    const parsed = serviceFromForm(values, undefined, (await secretChoices(c)).known);
    if (!parsed.ok) return await formPage(c, { values, errors: parsed.errors }, 400);
    const priority = priorityFromForm(values);
    if (!priority.ok) return await formPage(c, { values, errors: priority.errors }, 400);
    const { org } = orgScopeOf(c);
    try {
      const { app: created } = await c.var.services.apps.create(appCaller(c), org.id, {
        name: values.name?.trim() ?? "",
        spec: { services: [parsed.service] },
        priority: priority.priority,
      });
      return seeOther(c, `${appsBase(c)}/${encodeURIComponent(created.name)}?done=created`);
    } catch (err) {
      const e = actionError(err);
      const errors = e.fields && Object.keys(e.fields).length
        ? formErrorsOf(e.fields, 0, parsed.secretRows)
        : errorsOf(e);
      // A refusal or a missing capacity is said in one sentence too, above the form.
      if (e.status === 403 || e.status === 507) errors._form ??= e.message;
      return await formPage(c, { values, errors }, e.status);
    }
  });
}
