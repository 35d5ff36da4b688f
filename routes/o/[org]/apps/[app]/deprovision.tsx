import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { templateCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  TextField,
} from "../../../../../components/Field.tsx";
import { plural } from "../../../../../components/plural.ts";
import { errorsOf, readForm } from "../../../../_forms.ts";
import { render } from "../../../../_render.tsx";
import { actionError, appHref, appOf, appsBase } from "../_app.tsx";
import { templatesBase } from "../../templates/_template.tsx";

const PATH = "/o/:org/apps/:app/deprovision";

/** What a deprovision takes and keeps: the app's routes, its template's secrets, its volumes. */
async function whatGoes(c: AppContext, app: App) {
  const { org } = orgScopeOf(c);
  const [routes, from] = await Promise.all([
    c.var.services.proxy.store.list(org.id, { app: app.name, limit: 200 }),
    c.var.services.templates.store.ofApp(app.id),
  ]);
  return {
    hostnames: routes.flatMap((r) => r.spec.hostnames),
    secrets: from?.created.secrets ?? [],
    volumes: [...new Set(app.spec.services.flatMap((s) => s.volumes.map((v) => v.name)))],
    template: from ? `${from.template_id} ${from.template_version}` : null,
  };
}

/** The confirmation: volumes kept by default, deleted only when asked with the name typed. */
async function confirmPage(c: AppContext, app: App, form: FormState = {}, status = 200) {
  const self = appHref(c, app);
  const goes = await whatGoes(c, app);
  const list = (items: string[]) => (
    <ul class="deprovision-list">
      {items.map((x) => (
        <li key={x}>
          <code>{x}</code>
        </li>
      ))}
    </ul>
  );
  return render(
    c,
    <ConfirmForm
      title={`Deprovision "${app.name}"?`}
      action={`${self}/deprovision`}
      confirm="Deprovision"
      cancelHref={self}
      options={
        <>
          <FormAlert errors={form.errors} />
          <CheckboxField
            name="volumes"
            label="Also delete volumes and stored data"
            hint="Needs the app's name typed below. Left unticked, the volumes stay on their nodes with their data."
            values={form.values}
            idPrefix="dep"
          />
          <TextField
            name="confirm"
            label={`Type ${app.name} to delete its volumes`}
            autocomplete="off"
            values={form.values}
            errors={form.errors}
            idPrefix="dep"
          />
        </>
      }
    >
      <p>
        {goes.template ? <>Made from template {goes.template}.{" "}</> : null}
        {app.spec.services.length === 1
          ? "Its service stops and is removed with the app."
          : `Its ${app.spec.services.length} services stop and are removed with the app.`}
      </p>
      <h2 class="sub">Removed</h2>
      <ul class="deprovision-list" data-removed>
        <li>
          Routes:{" "}
          {goes.hostnames.length ? goes.hostnames.map((h) => <code key={h}>{h}</code>) : "none"}
        </li>
        <li>
          Secrets its template made:{" "}
          {goes.secrets.length ? goes.secrets.map((x) => <code key={x}>{x}</code>) : "none"}
        </li>
      </ul>
      <h2 class="sub">Kept unless you ask</h2>
      {goes.volumes.length
        ? (
          <div data-volumes>
            <p class="small">Volumes, with their data:</p>
            {list(goes.volumes)}
          </div>
        )
        : <p class="muted small">It has no volumes.</p>}
    </ConfirmForm>,
    { title: `Deprovision ${app.name}`, active: "apps", status },
  );
}

/** What the deprovision did. */
function resultPage(
  c: AppContext,
  app: App,
  r: { routes: number; secrets: string[]; volumes_kept: string[] },
  volumesDeleted: boolean,
) {
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={appsBase(c)}>Apps</a>
      </nav>
      <PageHeader title={`${app.name} deprovisioned`} />
      <Alert kind="ok">
        {app.name} is gone: its services were removed from the cluster.
      </Alert>
      <section class="card deprovision-result" aria-labelledby="result-title">
        <h2 id="result-title">What was done</h2>
        <ul class="deprovision-list">
          <li data-result="routes">{plural(r.routes, "route")} removed</li>
          <li data-result="secrets">
            {r.secrets.length
              ? (
                <>
                  {plural(r.secrets.length, "secret")} deleted:{" "}
                  {r.secrets.map((s) => <code key={s}>{s}</code>)}
                </>
              )
              : "No secret deleted"}
          </li>
          <li data-result="volumes">
            {volumesDeleted ? "Volumes and their data deleted" : r.volumes_kept.length
              ? (
                <>
                  {plural(r.volumes_kept.length, "volume")} kept with{" "}
                  {r.volumes_kept.length === 1 ? "its" : "their"} data:{" "}
                  {r.volumes_kept.map((v) => <code key={v}>{v}</code>)}
                </>
              )
              : "It had no volumes"}
          </li>
        </ul>
        {r.volumes_kept.length > 0 && (
          <p class="muted small">
            Kept volumes stay on their nodes; deploy the template again with the same name to use
            them, or remove them on the Volumes page.
          </p>
        )}
        <div class="actions">
          <a class="btn" href={appsBase(c)}>Apps</a>
          <a class="btn btn-ghost" href={templatesBase(c)}>Templates</a>
        </div>
      </section>
    </>,
    { title: `${app.name} deprovisioned`, active: "apps" },
  );
}

/**
 * `GET/POST /o/:org/apps/:app/deprovision`: take an app from a template down — its routes, its
 * services, its template's secrets; its volumes only when asked with its name typed (admins).
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:admin", async (c) => await confirmPage(c, await appOf(c)));

  page(app, "POST", PATH, "org:admin", async (c) => {
    const target = await appOf(c);
    const all = await readForm(c);
    const values = { volumes: all.volumes === "on" ? "on" : "", confirm: all.confirm ?? "" };
    const volumes = values.volumes === "on";
    if (volumes && values.confirm.trim() !== target.name) {
      return await confirmPage(c, target, {
        values,
        errors: { confirm: `type the app's name, ${target.name}, exactly to delete its volumes` },
      }, 400);
    }
    try {
      const r = await c.var.services.templates.deprovision(templateCaller(c), target, {
        volumes,
        confirm: values.confirm.trim(),
      });
      return await resultPage(c, target, r, volumes);
    } catch (err) {
      const e = actionError(err);
      return await confirmPage(c, target, { values, errors: errorsOf(e) }, e.status);
    }
  });
}
