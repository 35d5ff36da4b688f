import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { appCaller } from "../../../../lib/http/callers.ts";
import { AppSpec } from "../../../../lib/apps/spec.ts";
import {
  COMPOSE_MAX_BYTES,
  type ComposeResult,
  convertCompose,
} from "../../../../lib/compose/convert.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { FormAlert, TextField } from "../../../../components/Field.tsx";
import { TextAreaField } from "../../../../components/TextAreaField.tsx";
import type { FieldErrors, FormValues } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { actionError, appHrefOf, mayEdit, templatesBase } from "./_template.tsx";
import { editorPage } from "./_editor.tsx";
import { TEMPLATE_VOLUME_PREFIX, templateYaml } from "./_compose.ts";
import { portsForCluster } from "../../../../lib/compose/cluster_ports.ts";

const PATH = "/o/:org/templates/import";
const PLACEHOLDER = 'services:\n  web:\n    image: nginx:1\n    ports: ["80:80"]';

/** What the page shows: the text, the app's name, the conversion once asked for, errors. */
interface ImportState {
  values: FormValues;
  result?: ComposeResult;
  errors?: FieldErrors;
}

/** The compose file of a submission: the chosen file (its text replaces the textarea's) or the text. */
async function readImport(
  c: AppContext,
): Promise<{ values: FormValues; errors?: FieldErrors }> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    return { values: {} };
  }
  const body = await c.req.parseBody();
  const values: FormValues = {};
  let file: File | undefined;
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") values[k] = v;
    else if (k === "compose_file" && v instanceof File && v.size > 0) file = v;
  }
  if (file) {
    if (file.size > COMPOSE_MAX_BYTES) {
      return {
        values,
        errors: {
          compose_file: `the file is ${Math.ceil(file.size / 1024)} KB; at most ${
            COMPOSE_MAX_BYTES / 1024
          } KB are read`,
        },
      };
    }
    values.compose = await file.text();
  }
  // A textarea's line breaks arrive as CRLF: lines are counted the same either way, but the
  // text shown again should be the one typed.
  values.compose = (values.compose ?? "").replace(/\r\n/g, "\n");
  return { values };
}

/** The services the file becomes: image, ports, volumes, replicas. */
function SpecSummary({ result }: { result: ComposeResult }) {
  if (!result.spec) return null;
  const spec = AppSpec.parse(result.spec);
  return (
    <div class="table-wrap">
      <table class="template-services table-cards">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Image</th>
            <th scope="col">Ports</th>
            <th scope="col">Volumes</th>
            <th scope="col" class="num">Replicas</th>
          </tr>
        </thead>
        <tbody>
          {spec.services.map((s) => (
            <tr key={s.name} data-compose-service={s.name}>
              <td class="card-title">
                <code>{s.name}</code>
              </td>
              <td data-label="Image">
                <code class="app-image">{s.image}</code>
              </td>
              <td data-label="Ports">
                {s.ports.length
                  ? s.ports.map((p) => (
                    <code key={`${p.target}${p.published}`} class="template-volume">
                      {p.published ? `${p.published}→` : ""}
                      {p.target}/{p.protocol}
                    </code>
                  ))
                  : <span class="muted">—</span>}
              </td>
              <td data-label="Volumes">
                {s.volumes.length
                  ? s.volumes.map((v) => (
                    <code key={v.name} class="template-volume">{v.name}:{v.target}</code>
                  ))
                  : <span class="muted">—</span>}
              </td>
              <td class="num" data-label="Replicas">{s.global ? "global" : s.replicas}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Problems (what stops the import) and notes (what was converted differently), by line. */
function Findings(
  { result, text, which }: { result: ComposeResult; text: string; which: "problems" | "notes" },
) {
  const lines = text.split("\n");
  const item = (
    p: { path: string; line: number; column: number; message: string; kind?: string },
    i: number,
  ) => (
    <li key={i} data-problem-line={p.line} data-kind={p.kind ?? "note"}>
      <span class="problem-where">
        Line {p.line}, column {p.column}
        {p.path && (
          <>
            {" "}· <code>{p.path}</code>
          </>
        )}
        {p.kind && (
          <>
            {" "}
            <Badge tone={p.kind === "invalid" ? "error" : "warn"}>{p.kind}</Badge>
          </>
        )}
      </span>
      <span class={p.kind ? "problem-message" : ""}>{p.message}</span>
      {lines[p.line - 1]?.trim() && (
        <pre class="code problem-source"><span class="problem-line-no">{p.line}</span>{lines[p.line - 1]}</pre>
      )}
    </li>
  );
  return (
    <>
      {which === "problems" && result.problems.length > 0 && (
        <section class="card template-problems" aria-labelledby="problems-title" role="alert">
          <h2 id="problems-title">
            {result.problems.length}{" "}
            {result.problems.length === 1 ? "problem stops" : "problems stop"} the import
          </h2>
          <ol class="problem-list">{result.problems.map(item)}</ol>
        </section>
      )}
      {which === "notes" && result.notes.length > 0 && (
        <section class="card" aria-labelledby="notes-title">
          <h2 id="notes-title">
            {result.notes.length === 1 ? "1 note" : `${result.notes.length} notes`}
          </h2>
          <ol class="problem-list compose-notes">{result.notes.map(item)}</ol>
        </section>
      )}
    </>
  );
}

/** The import page: the file, and once converted, what it becomes and what to do with it. */
function importPage(c: AppContext, state: ImportState, status = 200) {
  const base = templatesBase(c);
  const { values, result, errors } = state;
  const admin = mayEdit(c);
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Templates</a>
      </nav>
      <PageHeader
        title="Import a Compose file"
        sub="A docker-compose.yml becomes an app of the same services, or a template to deploy again."
      />
      <FormAlert errors={errors} />
      {result && <Findings result={result} text={values.compose ?? ""} which="problems" />}
      {result?.spec && (
        <section class="card template-preview" aria-labelledby="converted-title">
          <h2 id="converted-title">
            {result.problems.length === 0 && "No problems: "}it becomes{" "}
            {result.spec.services.length === 1
              ? "one service"
              : `${result.spec.services.length} services`}
          </h2>
          <SpecSummary result={result} />
        </section>
      )}
      {result && <Findings result={result} text={values.compose ?? ""} which="notes" />}
      <form
        method="post"
        action={`${base}/import`}
        enctype="multipart/form-data"
        class="card form compose-form"
      >
        <TextAreaField
          name="compose"
          label="docker-compose.yml"
          rows={18}
          values={values}
          errors={errors}
          placeholder={PLACEHOLDER}
          idPrefix="compose"
        />
        <div class={errors?.compose_file ? "field has-error" : "field"}>
          <label for="compose-compose_file">Or upload the file</label>
          <input
            id="compose-compose_file"
            name="compose_file"
            type="file"
            accept=".yml,.yaml,application/yaml,text/yaml"
            aria-describedby={errors?.compose_file ? "compose-compose_file-error" : undefined}
          />
          {errors?.compose_file && (
            <p class="field-error" id="compose-compose_file-error">
              {errors.compose_file.charAt(0).toUpperCase() + errors.compose_file.slice(1)}
            </p>
          )}
          <p class="hint">
            One file, at most {COMPOSE_MAX_BYTES / 1024} KB; a chosen file replaces the text above.
          </p>
        </div>
        <TextField
          name="name"
          label="App name"
          maxLength={30}
          autocomplete="off"
          placeholder={result?.name ?? "my-app"}
          hint="For Create app (its volumes are named after it) and as the template's id."
          values={values}
          errors={errors}
          idPrefix="compose"
        />
        <div class="actions">
          <button class="btn" type="submit" name="intent" value="check">Check</button>
          <button class="btn btn-primary" type="submit" name="intent" value="create">
            Create app
          </button>
          {admin && (
            <button class="btn" type="submit" name="intent" value="template">
              Save as template…
            </button>
          )}
        </div>
      </form>
    </>,
    { title: "Import a Compose file", active: "templates", status },
  );
}

/**
 * `GET/POST /o/:org/templates/import`: convert a compose file and show its problems and notes by
 * line; "Create app" deploys it (members), "Save as template…" opens it in the editor (admins).
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", (c) => importPage(c, { values: {} }));

  page(app, "POST", PATH, "org:member", async (c) => {
    const read = await readImport(c);
    const values = read.values;
    if (read.errors) return importPage(c, { values, errors: read.errors }, 400);
    const text = values.compose ?? "";
    if (!text.trim()) {
      return importPage(c, {
        values,
        errors: { compose: "paste a compose file, or choose one to upload" },
      }, 400);
    }
    const name = (values.name ?? "").trim();
    const admin = mayEdit(c);
    const intent = values.intent === "create" || values.intent === "template"
      ? values.intent
      : "check";
    // Volumes are the app's own, as Compose prefixes them with its project: `<app>_<volume>`
    // (a template's get the app's name when it is deployed, so the prefix is taken off again).
    const prefix = intent === "template" ? TEMPLATE_VOLUME_PREFIX : name || undefined;
    const result = convertCompose(text, { allowBinds: admin, volumePrefix: prefix });
    if (intent === "check" || !result.spec) {
      return importPage(c, { values, result }, result.spec ? 200 : 400);
    }
    if (intent === "template") {
      if (!admin) {
        return importPage(c, {
          values,
          result,
          errors: { _form: "Organization admins save templates." },
        }, 403);
      }
      const yaml = templateYaml(result.spec, name || result.name);
      const checked = c.var.services.templates.check(yaml);
      return editorPage(c, {
        state: checked.template
          ? { source: yaml, checked: checked.template }
          : { source: yaml, problems: checked.problems },
      });
    }
    if (!name) {
      return importPage(
        c,
        { values, result, errors: { name: "is required to create the app" } },
        400,
      );
    }
    try {
      const made = await c.var.services.apps.create(appCaller(c), orgScopeOf(c).org.id, {
        name,
        spec: await portsForCluster(c.var.services.cluster, result.spec),
      });
      return seeOther(c, `${appHrefOf(c, made.app.name)}?done=created`);
    } catch (err) {
      const e = actionError(err);
      const errors: FieldErrors = {};
      const other: string[] = [];
      for (const [k, v] of Object.entries(e.fields ?? {})) {
        if (k === "name") errors.name = v;
        else other.push(`${k.replace(/^spec\./, "")}: ${v}`);
      }
      if (other.length || !errors.name) {
        errors._form = other.length ? `${e.message} (${other.join("; ")})` : e.message;
      }
      return importPage(c, { values, result, errors }, e.status);
    }
  });
}
