import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { templateCaller } from "../../../../lib/http/callers.ts";
import type { Template, Variable } from "../../../../lib/templates/format.ts";
import { isSecretVariable } from "../../../../lib/templates/render.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../components/Field.tsx";
import type { FieldErrors, FormValues } from "../../../_forms.ts";
import { readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import type { JSX } from "preact";
import { costEstimate, templateServices } from "../apps/_estimate.tsx";
import {
  actionError,
  ExposesList,
  mayDeploy,
  mayEdit,
  provisionHref,
  Readme,
  ServicesTable,
  TemplateFlash,
  templateHref,
  TemplateIcon,
  templatesBase,
  usedText,
  VariablesTable,
} from "./_template.tsx";

/** The form field of a variable (`var_<name>`; the service names it `variables.<name>`). */
const fieldOf = (v: Pick<Variable, "name">) => `var_${v.name}`;

/** The template the `:id` parameter names, with its entry and YAML, or 404. */
export async function templateOf(c: AppContext) {
  return await c.var.services.templates.get(orgScopeOf(c).org.id, c.req.param("id") ?? "");
}

type Found = Awaited<ReturnType<typeof templateOf>>;

/** The form's starting values: each variable's default (generated and secret ones left empty). */
function defaults(t: Template): FormValues {
  const out: FormValues = {};
  for (const v of t.variables) {
    if (isSecretVariable(v) || v.default === undefined) continue;
    if (v.type === "boolean") {
      if (v.default === true) out[fieldOf(v)] = "on";
    } else out[fieldOf(v)] = String(v.default);
  }
  return out;
}

/** One variable's input, by its type; secret values are never written back into the page. */
function VariableField(
  { v, form }: { v: Variable; form: FormState },
) {
  const name = fieldOf(v);
  const common = {
    name,
    label: v.label,
    values: form.values,
    errors: form.errors,
    idPrefix: "deploy",
  };
  if (v.type === "select") {
    return (
      <SelectField
        {...common}
        required={v.required}
        hint={v.description}
        options={[
          ...(v.required || v.default !== undefined ? [] : [{ value: "", label: "—" }]),
          ...(v.options ?? []).map((o) => ({ value: o, label: o })),
        ]}
      />
    );
  }
  if (v.type === "boolean") return <CheckboxField {...common} hint={v.description} />;
  if (isSecretVariable(v)) {
    return (
      <TextField
        {...common}
        type="password"
        autocomplete="new-password"
        required={v.required && !v.generate}
        hint={
          <>
            {v.description && <>{v.description}{" "}</>}
            {v.generate
              ? "Kept as a secret: leave empty to generate one."
              : "Kept as a secret; it is never shown again."}
          </>
        }
      />
    );
  }
  return (
    <TextField
      {...common}
      type={v.type === "number" ? "number" : "text"}
      required={v.required}
      autocomplete="off"
      placeholder={v.type === "domain" ? "shop.example.com" : undefined}
      hint={v.description}
    />
  );
}

/** The deploy form: the app's name, its domain (when the template routes one), the variables. */
function DeployForm(
  { c, found, form, estimate }: {
    c: AppContext;
    found: Found;
    form: FormState;
    /** What the template's services would cost (null: billing is free). */
    estimate: JSX.Element | null;
  },
) {
  const t = found.template;
  const route = t.routes[0];
  const secretsAsked = t.variables.some((v) => isSecretVariable(v));
  return (
    <form
      method="post"
      action={`${templateHref(c, found.id)}/deploy`}
      class="card form deploy-form"
      aria-labelledby="deploy-title"
    >
      <h2 id="deploy-title">Deploy {t.name}</h2>
      <FormAlert errors={form.errors} />
      {form.errors && secretsAsked && (
        <p class="hint secret-retry">
          Secret values you entered were not kept: type them again, or leave generated ones empty.
        </p>
      )}
      <TextField
        name="name"
        label="App name"
        required
        maxLength={63}
        autocomplete="off"
        placeholder={t.id}
        hint="Lowercase letters, digits and -; it names the app, its services and its secrets."
        values={form.values}
        errors={form.errors}
        idPrefix="deploy"
      />
      {route && (
        <TextField
          name="domain"
          label="Domain"
          autocomplete="off"
          placeholder="site.example.com"
          hint={
            <>
              Optional: a hostname routed to <code>{route.service}</code>{" "}
              with HTTPS. Point its DNS at the ingress first.
            </>
          }
          values={form.values}
          errors={form.errors}
          idPrefix="deploy"
        />
      )}
      {t.variables.length > 0 && (
        <fieldset class="deploy-variables">
          <legend>Variables</legend>
          {t.variables.map((v) => <VariableField key={v.name} v={v} form={form} />)}
        </fieldset>
      )}
      {estimate}
      <div class="actions">
        <button class="btn btn-primary" type="submit">Deploy</button>
      </div>
    </form>
  );
}

/** The details page, optionally with the deploy form's input and errors. */
export async function detailsPage(
  c: AppContext,
  found?: Found,
  form: FormState = {},
  status = 200,
) {
  const { org } = orgScopeOf(c);
  found ??= await templateOf(c);
  const t = found.template;
  const base = templatesBase(c);
  const self = templateHref(c, found.id);
  const deploy = mayDeploy(c);
  const edit = mayEdit(c);
  const cluster = deploy ? await c.var.services.cluster.info() : true;
  // The template fixes its services' replicas and reservations: one server-rendered figure.
  const estimate = deploy
    ? await costEstimate(c, { base: templateServices(t), fields: {}, values: {} })
    : null;
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Templates</a>
      </nav>
      <PageHeader
        title={t.name}
        sub={
          <span class="template-facts">
            <TemplateIcon icon={t.icon} name={t.name} /> <Badge>{t.category}</Badge> version{" "}
            {t.version} · {found.source === "builtin" ? "built in" : "this organization's"} ·{" "}
            <span data-used={found.used}>{usedText(found.used)}</span>
          </span>
        }
      >
        {deploy && <a class="btn btn-primary" href="#deploy-title">Deploy…</a>}
        {edit && found.source === "org" && (
          <>
            <a class="btn" href={`${self}/edit`}>Edit</a>
            <a class="btn btn-danger-ghost" href={`${self}/delete`}>Delete…</a>
          </>
        )}
        {edit && found.source === "builtin" && (
          <a class="btn" href={`${base}/new?from=${encodeURIComponent(found.id)}`}>Copy to edit</a>
        )}
      </PageHeader>
      <TemplateFlash c={c} />
      <div class="template-layout">
        <div class="template-main">
          <section class="card" aria-labelledby="about-title">
            <h2 id="about-title">About</h2>
            {t.description && <p>{t.description}</p>}
            {t.readme && <Readme text={t.readme} />}
            {t.tags.length > 0 && (
              <p class="template-tags small">
                {t.tags.map((x) => <Badge key={x}>{x}</Badge>)}
              </p>
            )}
            {t.docs && (
              <p class="small">
                Documentation: <a href={t.docs} rel="noopener noreferrer">{t.docs}</a>
              </p>
            )}
            {found.source === "builtin" && (
              <p class="muted small">
                Built-in templates ship with Capstan and are read-only
                {edit ? ": copy one to change it." : "."}
              </p>
            )}
          </section>
          <section aria-labelledby="services-title">
            <h2 id="services-title" class="section-title">Services</h2>
            <ServicesTable template={t} />
          </section>
          <section aria-labelledby="variables-title">
            <h2 id="variables-title" class="section-title">Variables</h2>
            <VariablesTable template={t} />
          </section>
          <section class="card" aria-labelledby="exposes-title">
            <h2 id="exposes-title">Exposes</h2>
            <ExposesList template={t} />
          </section>
          <details class="card template-source">
            <summary>Source (YAML)</summary>
            <pre class="code">{found.yaml}</pre>
          </details>
        </div>
        <div class="template-side">
          {deploy
            ? (
              <>
                {!cluster && (
                  <Alert kind="warn">
                    There is no cluster yet, so a deploy would fail: a platform admin creates it in
                    {" "}
                    <a href={`/o/${encodeURIComponent(org.slug)}/settings/cluster`}>
                      Settings → Cluster
                    </a>.
                  </Alert>
                )}
                <DeployForm
                  c={c}
                  found={found}
                  form={{ values: form.values ?? defaults(t), errors: form.errors }}
                  estimate={estimate}
                />
              </>
            )
            : (
              <section class="card">
                <h2>Deploy</h2>
                <p class="muted">
                  Members of the organization deploy templates; you can read them.
                </p>
              </section>
            )}
        </div>
      </div>
    </>,
    // The deploy form takes secret values: never cached, so Back does not bring them back.
    { title: `${t.name} · Templates`, active: "templates", status, noStore: true },
  );
}

/** The submitted form as the service takes it: name, domain and each variable's value. */
function deployInput(t: Template, all: FormValues) {
  const values: Record<string, string | boolean> = {};
  for (const v of t.variables) {
    const raw = all[fieldOf(v)];
    if (v.type === "boolean") values[v.name] = raw === "on";
    else if (raw !== undefined && raw !== "") {
      values[v.name] = isSecretVariable(v) ? raw : raw.trim();
    }
  }
  return {
    name: (all.name ?? "").trim(),
    domain: (all.domain ?? "").trim() || undefined,
    values,
  };
}

/** What comes back into the page after a refusal: every field but the secret ones. */
function keptValues(t: Template, all: FormValues): FormValues {
  const kept: FormValues = { name: all.name ?? "", domain: all.domain ?? "" };
  for (const v of t.variables) {
    if (isSecretVariable(v)) continue;
    const raw = all[fieldOf(v)];
    if (raw !== undefined) kept[fieldOf(v)] = raw;
  }
  return kept;
}

/** The service's field names on the form's fields (`variables.x` is `var_x`). */
function deployErrors(fields: Record<string, string>, message: string): FieldErrors {
  const out: FieldErrors = {};
  const other: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const m = /^variables\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m) out[`var_${m[1]}`] = v;
    else if (k === "name" || k === "domain") out[k] = v;
    else other.push(`${k}: ${v}`);
  }
  if (other.length) out._form = `${message} (${other.join("; ")})`;
  return out;
}

/**
 * `GET /o/:org/templates/:id`: a template's details and its deploy form (viewers read, members
 * deploy); `POST …/deploy` provisions it and goes to the progress page.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/templates/:id", "org:viewer", (c) => detailsPage(c));

  page(app, "POST", "/o/:org/templates/:id/deploy", "org:member", async (c) => {
    const found = await templateOf(c);
    const all = await readForm(c);
    const input = deployInput(found.template, all);
    const values = keptValues(found.template, all);
    try {
      const p = await c.var.services.templates.deploy(templateCaller(c), found.id, input);
      return seeOther(c, provisionHref(c, p.id));
    } catch (err) {
      const e = actionError(err);
      const errors = e.fields && Object.keys(e.fields).length
        ? deployErrors(e.fields, e.message)
        : { _form: e.message };
      // A conflict's message says more than its field (which secret names are taken).
      if (e.status === 409) errors._form ??= e.message;
      return await detailsPage(c, found, { values, errors }, e.status);
    }
  });
}
