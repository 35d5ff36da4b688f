import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { appCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { AppForm } from "../../../../../components/AppForm.tsx";
import { MigrationPolicyForm } from "../../../../../components/MigrationPolicyForm.tsx";
import type { MigrationPolicy } from "../../../../../lib/apps/tables.ts";
import { pinsServices } from "../../../../../lib/apps/placement.ts";
import type { FormState } from "../../../../../components/Field.tsx";
import { errorsOf, readForm } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, AppCrumbs, appHref, appOf } from "../_app.tsx";
import {
  formErrorsOf,
  formFields,
  priorityFromForm,
  serviceFromForm,
  serviceValues,
} from "../_form.ts";
import { APP_FORM_FIELDS, costEstimate, servicesOf } from "../_estimate.tsx";
import { secretChoices, secretsHrefOf } from "../_secrets.ts";

const PATH = "/o/:org/apps/:app/edit";

/** The index of the service an edit is about (`?service=` or the posted `edit_service`). */
function serviceIndex(app: App, name: string | undefined): number {
  const i = app.spec.services.findIndex((s) => s.name === name);
  return i < 0 ? 0 : i;
}

/** The edit form of one service of the app, and the app's migration policy. */
async function editPage(
  c: AppContext,
  app: App,
  index: number,
  form?: FormState,
  status = 200,
  policyError?: string,
) {
  const self = appHref(c, app);
  const names = app.spec.services.map((s) => s.name);
  const editing = names[index];
  const values = form?.values ?? serviceValues(app, editing);
  const [cluster, { choices }, estimate] = await Promise.all([
    c.var.services.cluster.info(),
    secretChoices(c),
    // The whole app as it would run with this service as typed (the other services as saved).
    costEstimate(c, { base: servicesOf(app), index, fields: APP_FORM_FIELDS, values }),
  ]);
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader
        title={`Edit ${app.name}`}
        sub="Saving keeps the running deployment as it is; deploying rolls the change out, new tasks first."
      />
      {names.length > 1 && (
        <nav class="tabs" aria-label="Services">
          {names.map((n) => (
            <a
              key={n}
              href={`${self}/edit?service=${encodeURIComponent(n)}`}
              aria-current={n === editing ? "page" : undefined}
            >
              {n}
            </a>
          ))}
        </nav>
      )}
      <AppForm
        action={`${self}/edit`}
        mode="edit"
        routingMesh={cluster?.routing_mesh}
        secrets={choices}
        secretsHref={secretsHrefOf(c)}
        values={values}
        errors={form?.errors}
        estimate={estimate}
      >
        <input type="hidden" name="edit_service" value={editing} />
        <button class="btn btn-primary" type="submit" name="then" value="deploy">
          Save and deploy
        </button>
        <button class="btn" type="submit" name="then" value="save">Save</button>
        {estimate && (
          // Re-renders the form with the estimate of what is typed (no JavaScript needed).
          <button class="btn" type="submit" name="then" value="preview" formnovalidate>
            Preview cost
          </button>
        )}
        <a class="btn btn-ghost" href={self}>Cancel</a>
      </AppForm>
      <MigrationPolicyForm
        action={`${self}/edit/policy`}
        value={app.migration_policy}
        error={policyError}
      />
    </>,
    { title: `Edit · ${app.name}`, active: "apps", status },
  );
}

const POLICIES: readonly string[] = ["automatic", "manual", "none"] satisfies MigrationPolicy[];

/**
 * `GET/POST /o/:org/apps/:app/edit`: change a service of the app, then save or deploy; `POST
 * …/edit/policy`: change the migration policy (members).
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/o/:org/apps/:app/edit/policy", "org:member", async (c) => {
    const target = await appOf(c);
    const { migration_policy: policy } = await readForm(c);
    if (!POLICIES.includes(policy ?? "")) {
      return await editPage(c, target, 0, undefined, 400, "choose one of the three policies");
    }
    const before = target.migration_policy;
    try {
      const saved = await c.var.services.apps.update(appCaller(c), target, {
        migration_policy: policy as MigrationPolicy,
      });
      const redeployed = saved.current_deployment_id !== null &&
        pinsServices(before) !== pinsServices(policy as MigrationPolicy);
      return seeOther(
        c,
        `${appHref(c, saved)}?done=${redeployed ? "policy_deployed" : "policy_saved"}`,
      );
    } catch (err) {
      const e = actionError(err);
      return await editPage(c, target, 0, undefined, e.status, e.message);
    }
  });

  page(app, "GET", PATH, "org:member", async (c) => {
    const target = await appOf(c);
    return await editPage(c, target, serviceIndex(target, c.req.query("service")));
  });

  page(app, "POST", PATH, "org:member", async (c) => {
    let target = await appOf(c);
    const all = await readForm(c);
    const index = serviceIndex(target, all.edit_service);
    const values = { ...formFields(all), name: target.name };
    // "Preview cost": the same form again with the estimate of what is typed; nothing is saved.
    if (all.then === "preview") return await editPage(c, target, index, { values });
    const priority = priorityFromForm(values);
    if (!priority.ok) {
      return await editPage(c, target, index, { values, errors: priority.errors }, 400);
    }
    const parsed = serviceFromForm(
      values,
      target.spec.services[index],
      (await secretChoices(c)).known,
    );
    if (!parsed.ok) return await editPage(c, target, index, { values, errors: parsed.errors }, 400);
    const services = target.spec.services.map((s, i) => i === index ? parsed.service : s);
    try {
      target = await c.var.services.apps.update(appCaller(c), target, {
        spec: { services },
        ...(priority.priority !== target.priority ? { priority: priority.priority } : {}),
      });
      if (all.then === "deploy") await c.var.services.apps.deploy(appCaller(c), target);
    } catch (err) {
      const e = actionError(err);
      const errors = e.fields && Object.keys(e.fields).length
        ? formErrorsOf(e.fields, index, parsed.secretRows)
        : errorsOf(e);
      if (e.status === 403 || e.status === 507 || e.status === 409) errors._form ??= e.message;
      return await editPage(c, target, index, { values, errors }, e.status);
    }
    return seeOther(
      c,
      `${appHref(c, target)}?done=${all.then === "deploy" ? "deployed" : "saved"}`,
    );
  });
}
