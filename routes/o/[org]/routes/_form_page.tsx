/**
 * The new-route and edit-route pages: one form, prefilled from the route being edited or, for a
 * new one, from `?app=` with the app's first published port; a refused submission comes back with
 * its input and each message next to its field.
 */
import { type AppContext, orgScopeOf, principalOf } from "../../../../lib/http/context.ts";
import { routeCaller } from "../../../../lib/http/callers.ts";
import type { App } from "../../../../lib/apps/store.ts";
import type { Route } from "../../../../lib/proxy/store.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { RouteForm, type TargetChoice } from "../../../../components/RouteForm.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { errorsOf, type FormValues, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { actionError, routeHref, routesBase } from "./_route.tsx";
import { routeFormErrorsOf, routeFormFields, routeValues, specFromForm } from "./_form.ts";

/** Apps offered as targets (an organization with more picks by search in the API). */
const MAX_APPS = 200;

/** The first TCP port an app publishes, as `[service, container port]`. */
function firstPort(app: App): [string, number] | undefined {
  for (const s of app.spec.services) {
    const p = s.ports.find((x) => x.protocol !== "udp");
    if (p) return [s.name, p.target];
  }
  return undefined;
}

/** The organization's app services as target choices, and its apps by name. */
async function targetsOf(c: AppContext): Promise<{ choices: TargetChoice[]; apps: App[] }> {
  const { apps } = await c.var.services.apps.store.list(orgScopeOf(c).org.id, { limit: MAX_APPS });
  const choices = apps.flatMap((a) =>
    a.spec.services.map((s) => {
      const ports = s.ports.filter((p) => p.protocol !== "udp").map((p) => p.target);
      return {
        value: `${a.name}/${s.name}`,
        label: `${a.name} · ${s.name}${ports.length ? ` (port ${ports.join(", ")})` : ""}`,
      };
    })
  );
  return { choices, apps };
}

/** A new route's values: HTTPS redirect on, the `?app=` app's first published port. */
function newRouteValues(apps: App[], wanted: string | undefined): FormValues {
  const values: FormValues = { https_redirect: "on", www: "none", tls: "" };
  const app = apps.find((a) => a.name === wanted) ?? (apps.length === 1 ? apps[0] : undefined);
  const first = app && firstPort(app);
  if (app) values.target = `${app.name}/${first?.[0] ?? app.spec.services[0].name}`;
  if (first) values.target_port = String(first[1]);
  return values;
}

/** The form page: new (`route` undefined) or an edit, blank or with a refused submission. */
export async function routeFormPage(
  c: AppContext,
  route: Route | undefined,
  form: FormState = {},
  status = 200,
) {
  const base = routesBase(c);
  const [{ choices, apps }, settings] = await Promise.all([
    targetsOf(c),
    c.var.services.proxy.store.settings(),
  ]);
  const values = form.values ??
    (route ? routeValues(route.spec) : newRouteValues(apps, c.req.query("app")));
  const self = route ? routeHref(c, route) : undefined;
  const title = route ? `Edit ${route.spec.hostnames[0]}` : "New route";
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Routes</a>
        {self && (
          <>
            {" "}
            <span aria-hidden="true">/</span> <a href={self}>{route!.spec.hostnames[0]}</a>
          </>
        )}
      </nav>
      <PageHeader
        title={title}
        sub="Saved once the proxy has loaded it; hostnames are yours in the whole install."
      />
      <RouteForm
        action={route ? `${self}/edit` : `${base}/new`}
        targets={choices}
        allowUrl={principalOf(c).isAdmin}
        defaultTls={settings.default_tls === "internal" ? "internal CA" : "ACME"}
        hasPassword={Boolean(route?.spec.basic_auth)}
        values={values}
        errors={form.errors}
      >
        <button class="btn btn-primary" type="submit">
          {route ? "Save route" : "Create route"}
        </button>
        <a class="btn btn-ghost" href={self ?? base}>Cancel</a>
      </RouteForm>
    </>,
    { title, active: "routes", status },
  );
}

/** Handles a submission of the form: creates or saves the route, or shows the form again. */
export async function submitRoute(c: AppContext, route: Route | undefined): Promise<Response> {
  const values = routeFormFields(await readForm(c));
  const parsed = specFromForm(values);
  if (!parsed.ok) return await routeFormPage(c, route, { values, errors: parsed.errors }, 400);
  const { proxy } = c.var.services;
  try {
    const r = route
      ? await proxy.update(routeCaller(c), route, parsed.spec)
      : await proxy.create(routeCaller(c), parsed.spec);
    return seeOther(c, `${routeHref(c, r.route)}?done=${route ? "saved" : "created"}`);
  } catch (err) {
    const e = actionError(err);
    const errors = e.fields && Object.keys(e.fields).length
      ? routeFormErrorsOf(e.fields)
      : errorsOf(e);
    // A refusal (a wildcard, an external URL) or a conflict is said above the form too.
    if (e.status === 403 || e.status === 409) errors._form ??= e.message;
    return await routeFormPage(c, route, { values, errors }, e.status);
  }
}
