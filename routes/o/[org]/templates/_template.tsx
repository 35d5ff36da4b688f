/**
 * What the template pages share: their links, who may deploy and who may edit, the flash messages
 * after an action, a template's icon, the problems of a YAML source by line (with the line's own
 * text), and the preview of what a template creates (services, variables, what it exposes).
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import type { Template, TemplateProblem } from "../../../../lib/templates/format.ts";
import { isSecretVariable } from "../../../../lib/templates/render.ts";
import { Alert } from "../../../../components/Alert.tsx";

export { actionError } from "../apps/_app.tsx";

/** `/o/<slug>/templates`. */
export function templatesBase(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/templates`;
}

/** `/o/<slug>/templates/<id>`. */
export function templateHref(c: AppContext, id: string): string {
  return `${templatesBase(c)}/${encodeURIComponent(id)}`;
}

/** `/o/<slug>/provisions/<id>`: a provisioning's progress. */
export function provisionHref(c: AppContext, id: string): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/provisions/${encodeURIComponent(id)}`;
}

/** `/o/<slug>/apps/<name>`. */
export function appHrefOf(c: AppContext, app: string): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/apps/${encodeURIComponent(app)}`;
}

/** Whether the caller may deploy a template (a member or more, not through a read-only token). */
export function mayDeploy(c: AppContext): boolean {
  return c.get("principal")?.tokenScope !== "read" && roleAtLeast(orgScopeOf(c).role, "member");
}

/** Whether the caller may write organization templates (an admin or owner, as the API). */
export function mayEdit(c: AppContext): boolean {
  return c.get("principal")?.tokenScope !== "read" && roleAtLeast(orgScopeOf(c).role, "admin");
}

/** Messages `?done=` may show on the template pages; anything else is ignored, never echoed. */
const DONE: Record<string, string> = {
  created: "Template saved. It is in the library for everyone in the organization.",
  saved: "Template saved. Apps made from it before keep what they were made with.",
  deleted: "Template deleted.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function TemplateFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/** A template's icon (an emoji or short text from its YAML), else its name's first letter. */
export function TemplateIcon({ icon, name }: { icon: string | null | undefined; name: string }) {
  return (
    <span class="template-icon" aria-hidden="true">
      {icon?.trim() || name.trim().charAt(0).toUpperCase() || "?"}
    </span>
  );
}

/**
 * A template's readme as paragraphs: a blank line starts a new one, lines starting with "- " are
 * list items, and other line breaks are the YAML's wrapping, not the author's (joined by spaces).
 */
export function Readme({ text }: { text: string }) {
  const blocks = text.trim().split(/\n\s*\n/);
  return (
    <div class="template-readme">
      {blocks.map((block, i) => {
        const paragraph: string[] = [];
        const items: string[] = [];
        for (const line of block.split("\n").map((l) => l.trim())) {
          if (line.startsWith("- ")) items.push(line.slice(2));
          else if (items.length) items[items.length - 1] += ` ${line}`;
          else paragraph.push(line);
        }
        return (
          <div key={i}>
            {paragraph.length > 0 && <p>{paragraph.join(" ")}</p>}
            {items.length > 0 && (
              <ul>
                {items.map((x, j) => <li key={j}>{x}</li>)}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** "used 3 times", "used once", "not used yet". */
export function usedText(n: number): string {
  if (n === 0) return "not used yet";
  return n === 1 ? "used once" : `used ${n} times`;
}

/**
 * The problems of a template's source by line, each with the text of its line (so the mistake is
 * seen without counting lines in the textarea), in line order.
 */
export function ProblemList(
  { problems, source, title }: { problems: TemplateProblem[]; source: string; title?: string },
) {
  if (!problems.length) return null;
  const lines = source.split(/\r?\n/);
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  return (
    <section class="card template-problems" aria-labelledby="problems-title" role="alert">
      <h2 id="problems-title">
        {title ??
          `${problems.length} ${problems.length === 1 ? "problem" : "problems"} in the YAML`}
      </h2>
      <ol class="problem-list">
        {sorted.map((p, i) => (
          <li key={i} data-problem-line={p.line}>
            <span class="problem-where">
              Line {p.line}, column {p.column}
              {p.path && (
                <>
                  {" "}· <code>{p.path}</code>
                </>
              )}
            </span>
            <span class="problem-message">{p.message}</span>
            {lines[p.line - 1] !== undefined && lines[p.line - 1].trim() !== "" && (
              <pre class="code problem-source"><span class="problem-line-no">{p.line}</span>{lines[p.line - 1]}</pre>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/**
 * The problems the service names as `source:<line>:<column>` fields (a save refused), back as a
 * list; `source` alone (an id taken) has no line and is the form's message.
 */
export function problemsOfFields(
  fields: Record<string, string>,
): { problems: TemplateProblem[]; other: string[] } {
  const problems: TemplateProblem[] = [];
  const other: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const m = /^source:(\d+):(\d+)$/.exec(k);
    if (!m) {
      other.push(v);
      continue;
    }
    const colon = /^([A-Za-z0-9_.-]+): (.*)$/s.exec(v);
    problems.push({
      line: Number(m[1]),
      column: Number(m[2]),
      path: colon ? colon[1] : "",
      message: colon ? colon[2] : v,
    });
  }
  return { problems, other };
}

/** The names a service waits for. */
export function dependsOn(s: Template["services"][string]): string[] {
  return Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
}

/** The services a template creates: image, port, what it waits for, its volumes. */
export function ServicesTable({ template }: { template: Template }) {
  const entries = Object.entries(template.services);
  return (
    <div class="table-wrap">
      <table class="template-services table-cards">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Image</th>
            <th scope="col">Port</th>
            <th scope="col">Depends on</th>
            <th scope="col">Volumes</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([name, s]) => (
            <tr key={name} data-template-service={name}>
              <td class="card-title">
                <code>{name}</code>
              </td>
              <td data-label="Image">
                <code class="app-image">{s.image}</code>
              </td>
              <td data-label="Port">{s.port ?? <span class="muted">—</span>}</td>
              <td data-label="Depends on">
                {dependsOn(s).length
                  ? dependsOn(s).map((d, i) => (
                    <span key={d}>
                      {i > 0 && ", "}
                      <code>{d}</code>
                      {!Array.isArray(s.depends_on) &&
                        s.depends_on?.[d]?.condition === "service_healthy" && (
                        <span class="muted small">(healthy)</span>
                      )}
                    </span>
                  ))
                  : <span class="muted">—</span>}
              </td>
              <td data-label="Volumes">
                {s.volumes?.length
                  ? s.volumes.map((v) => <code key={v} class="template-volume">{v}</code>)
                  : <span class="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What a variable's value is when left empty. */
function defaultText(v: Template["variables"][number]): string {
  if (v.generate) return `generated (${v.generate === "password" ? "a password" : v.generate})`;
  if (v.default === undefined || v.default === "") return "";
  return String(v.default);
}

/** The variables a deploy asks for: type, default ("generated" for those Capstan makes). */
export function VariablesTable({ template }: { template: Template }) {
  if (!template.variables.length) {
    return <p class="muted">No variables: a name (and a domain) is all it needs.</p>;
  }
  return (
    <div class="table-wrap">
      <table class="template-variables table-cards">
        <thead>
          <tr>
            <th scope="col">Variable</th>
            <th scope="col">Type</th>
            <th scope="col">Default</th>
            <th scope="col">Required</th>
          </tr>
        </thead>
        <tbody>
          {template.variables.map((v) => (
            <tr key={v.name} data-template-variable={v.name}>
              <td class="card-title">
                <code>{v.name}</code>
                <div class="small">{v.label}</div>
                {v.description && <div class="muted small">{v.description}</div>}
              </td>
              <td data-label="Type">
                {v.type}
                {isSecretVariable(v) && <span class="muted small">, kept as a secret</span>}
                {v.type === "select" && v.options && (
                  <div class="muted small">{v.options.join(", ")}</div>
                )}
              </td>
              <td data-label="Default">
                {defaultText(v) ? <code>{defaultText(v)}</code> : <span class="muted">—</span>}
              </td>
              <td data-label="Required">{v.required ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What a template exposes: its routes (service, port, path), or that it has none. */
export function ExposesList({ template }: { template: Template }) {
  if (!template.routes.length) {
    return (
      <p class="muted">
        Nothing: no service is routed, so a deploy takes no domain.
      </p>
    );
  }
  return (
    <ul class="template-exposes">
      {template.routes.map((r, i) => (
        <li key={i} data-template-route={r.service}>
          <code>{r.service}:{r.port ?? template.services[r.service]?.port}</code> at{" "}
          <code>{r.path}</code> {i === 0
            ? <span class="muted">— the domain you give routes here, with HTTPS</span>
            : <span class="muted">— add a route for it after deploying</span>}
        </li>
      ))}
    </ul>
  );
}
