/**
 * The template editor (organization admins): the YAML in a textarea, "Check" (the problems by
 * line, or a preview of the services, variables and route it would create) and "Save". Built-in
 * templates open read-only, with "Copy to edit". One page serves new templates and edits.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { templateCaller } from "../../../../lib/http/callers.ts";
import type { Template, TemplateProblem } from "../../../../lib/templates/format.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { FormAlert } from "../../../../components/Field.tsx";
import { TextAreaField } from "../../../../components/TextAreaField.tsx";
import { readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import {
  actionError,
  ExposesList,
  ProblemList,
  problemsOfFields,
  ServicesTable,
  templateHref,
  templatesBase,
  VariablesTable,
} from "./_template.tsx";

/** A new template's starting text: the smallest useful template, explained by its own keys. */
export const STARTER = `id: my-site
name: My site
description: One web server from an image, routed to a domain.
category: runtime
version: 1.0.0
icon: "🌐"
readme: |
  What the user gets, and which variables matter.
variables:
  - name: greeting
    label: Greeting
    default: Hello
services:
  web:
    image: nginx:1
    environment:
      GREETING: \${greeting}
    port: 80
routes:
  - service: web
`;

/** What the editor shows. */
export interface EditorState {
  source: string;
  /** The result of "Check" or of a refused save. */
  problems?: TemplateProblem[];
  /** The template "Check" found valid (the preview). */
  checked?: Template;
  /** A message that belongs to no line (an id taken, a refusal). */
  error?: string;
}

/** The editor page. `editing`: the organization template being changed (its id stays). */
export function editorPage(
  c: AppContext,
  opts: {
    editing?: { id: string; name: string };
    readOnly?: { id: string; name: string };
    state: EditorState;
    status?: number;
  },
) {
  const base = templatesBase(c);
  const { editing, readOnly, state } = opts;
  const action = editing ? `${templateHref(c, editing.id)}/edit` : `${base}/new`;
  const title = readOnly
    ? `${readOnly.name} (read-only)`
    : editing
    ? `Edit ${editing.name}`
    : "New template";
  const current = editing ?? readOnly;
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base}>Templates</a>
        {current && (
          <>
            {" "}
            <span aria-hidden="true">/</span>{" "}
            <a href={templateHref(c, current.id)}>{current.name}</a>
          </>
        )}
      </nav>
      <PageHeader
        title={title}
        sub={readOnly
          ? "Built-in templates ship with Capstan and cannot be changed here."
          : editing
          ? "Its id stays; apps made from it keep what they were made with."
          : "A template is one YAML document: metadata, variables, services and routes."}
      >
        {readOnly && (
          <a class="btn btn-primary" href={`${base}/new?from=${encodeURIComponent(readOnly.id)}`}>
            Copy to edit
          </a>
        )}
      </PageHeader>
      {readOnly && (
        <Alert kind="info">
          This is a built-in template: read-only. "Copy to edit" opens its YAML as a new
          organization template with another id.
        </Alert>
      )}
      {state.error && <FormAlert errors={{ _form: state.error }} />}
      {state.problems && <ProblemList problems={state.problems} source={state.source} />}
      {state.checked && (
        <section class="card template-preview" aria-labelledby="preview-title">
          <h2 id="preview-title">No problems: it would create</h2>
          <p class="muted small">
            <strong>{state.checked.name}</strong> ({state.checked.id}, version{" "}
            {state.checked.version}): {Object.keys(state.checked.services).length === 1
              ? "one service"
              : `${Object.keys(state.checked.services).length} services`}, deployed in dependency
            order.
          </p>
          <ServicesTable template={state.checked} />
          <h3 class="sub">Variables</h3>
          <VariablesTable template={state.checked} />
          <h3 class="sub">Exposes</h3>
          <ExposesList template={state.checked} />
        </section>
      )}
      {readOnly
        ? (
          <section class="card">
            <h2>Source (YAML)</h2>
            <pre class="code template-yaml">{state.source}</pre>
          </section>
        )
        : (
          <form method="post" action={action} class="card form template-editor">
            <TextAreaField
              name="source"
              label="YAML"
              rows={28}
              values={{ source: state.source }}
              idPrefix="editor"
              hint={
                <>
                  Variables are used as <code>{"${name}"}</code>; <code>{"${service.host}"}</code>
                  {" "}
                  and <code>{"${service.port}"}</code>{" "}
                  name another service. Passwords and generated values become secrets, never part of
                  the app's configuration.
                </>
              }
            />
            <div class="actions">
              <button class="btn btn-primary" type="submit" name="intent" value="save">
                Save
              </button>
              <button class="btn" type="submit" name="intent" value="check">Check</button>
              <a class="btn btn-ghost" href={current ? templateHref(c, current.id) : base}>
                Cancel
              </a>
            </div>
          </form>
        )}
    </>,
    { title, active: "templates", status: opts.status ?? 200 },
  );
}

/**
 * Handles the editor's POST: "Check" answers the problems or the preview; "Save" saves (a new
 * template, or `editing` replaced) and goes to its page, or shows why not.
 */
export async function editorPost(c: AppContext, editing?: { id: string; name: string }) {
  const all = await readForm(c);
  // A textarea's line breaks arrive as CRLF whatever was typed.
  const source = (all.source ?? "").replace(/\r\n/g, "\n");
  const { templates } = c.var.services;
  if (all.intent !== "save") {
    const r = templates.check(source);
    return editorPage(c, {
      editing,
      state: r.template ? { source, checked: r.template } : { source, problems: r.problems },
      status: r.template ? 200 : 400,
    });
  }
  try {
    const saved = await templates.save(templateCaller(c), source, editing?.id);
    return seeOther(
      c,
      `${templateHref(c, saved.template_id)}?done=${editing ? "saved" : "created"}`,
    );
  } catch (err) {
    const e = actionError(err);
    const { problems, other } = problemsOfFields(e.fields ?? {});
    // A 400's own message is generic ("Invalid input: source"): its fields say what is wrong.
    const said = e.status === 400 && other.length
      ? other.map((m) => m.charAt(0).toUpperCase() + m.slice(1)).join("; ")
      : problems.length
      ? undefined
      : e.message;
    return editorPage(c, {
      editing,
      state: { source, problems: problems.length ? problems : undefined, error: said },
      status: e.status,
    });
  }
}
