/** Minimal shapes of the OpenAPI 3.1 document parts the reference page shows. */
export interface ApiParam {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Record<string, unknown>;
}
type Content = Record<string, { schema?: Record<string, unknown> }>;
export interface ApiOp {
  method: string;
  path: string;
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: ApiParam[];
  requestBody?: { required?: boolean; content?: Content };
  responses?: Record<string, { description?: string; content?: Content }>;
  /** Who may call it, from the route's declared policy. */
  access: string;
}

/** `#/components/schemas/Name` → `Name`. */
function refName(schema: unknown): string | null {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === "string" ? ref.split("/").pop() ?? null : null;
}

/** Short type of a parameter schema: `integer (1–200, default 50)`, `"ok" | "error"`. */
function typeOf(s: Record<string, unknown> = {}): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const type = Array.isArray(s.type) ? s.type.join(" | ") : String(s.type ?? "any");
  const notes: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) {
    notes.push(`${s.minimum ?? "…"}–${s.maximum ?? "…"}`);
  }
  if (s.maxLength !== undefined) notes.push(`≤ ${s.maxLength} chars`);
  if (s.default !== undefined) notes.push(`default ${JSON.stringify(s.default)}`);
  return notes.length ? `${type} (${notes.join(", ")})` : type;
}

/**
 * JSON pretty-printed, but with small objects and arrays kept on one line, so a schema reads like
 * a schema rather than a column of brackets.
 */
export function compactJson(value: unknown, indent = ""): string {
  const flat = JSON.stringify(value, null, 1)?.replace(/\n\s*/g, " ");
  if (flat === undefined || flat.length + indent.length <= 72 || value === null) {
    return flat ?? "null";
  }
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object") {
    const lines = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`
    );
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return flat;
}

/** Names of the components a schema refers to, for links next to its JSON. */
function refsIn(schema: unknown): string[] {
  const text = JSON.stringify(schema) ?? "";
  return [...new Set([...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]))];
}

/** A schema: a link when it is a named component, compact JSON (with links to its refs) otherwise. */
export function Schema({ schema }: { schema?: Record<string, unknown> }) {
  if (!schema) return null;
  const name = refName(schema);
  if (name) {
    return (
      <a href={`#schema-${name}`}>
        <code>{name}</code>
      </a>
    );
  }
  const refs = refsIn(schema);
  return (
    <>
      <pre class="code">{compactJson(schema)}</pre>
      {refs.length > 0 && (
        <p class="small muted refs">
          Uses: {refs.map((r, i) => (
            <span key={r}>
              {i > 0 && ", "}
              <a href={`#schema-${r}`}>
                <code>{r}</code>
              </a>
            </span>
          ))}
        </p>
      )}
    </>
  );
}

/** Stable anchor of an operation. */
export function opId(method: string, path: string): string {
  return `op-${method}-${path.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

/** One API operation: method, path, summary, access, parameters, body and responses. */
export function ApiOperation({ op }: { op: ApiOp }) {
  const body = op.requestBody?.content?.["application/json"]?.schema;
  return (
    <article class="card op" id={opId(op.method, op.path)}>
      <h3 class="op-title">
        <span class={`method method-${op.method}`}>{op.method.toUpperCase()}</span>
        <code class="op-path">{op.path}</code>
      </h3>
      {op.summary && <p>{op.summary}</p>}
      {op.description && <p class="muted">{op.description}</p>}
      <p class="access">
        <strong>Access:</strong> {op.access}
      </p>
      {op.parameters && op.parameters.length > 0 && (
        <>
          <h4>Parameters</h4>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">In</th>
                  <th scope="col">Type</th>
                  <th scope="col">Required</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {op.parameters.map((p) => (
                  <tr key={`${p.in}-${p.name}`}>
                    <td class="nowrap">
                      <code>{p.name}</code>
                    </td>
                    <td class="nowrap">{p.in}</td>
                    <td class="nowrap">
                      <code>{typeOf(p.schema)}</code>
                    </td>
                    <td class="nowrap">{p.required ? "yes" : "no"}</td>
                    <td>{p.description ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {body && (
        <>
          <h4>Request body (JSON)</h4>
          <Schema schema={body} />
        </>
      )}
      {op.responses && (
        <>
          <h4>Responses</h4>
          <dl class="responses">
            {Object.entries(op.responses).map(([status, r]) => (
              <div key={status} class="response">
                <dt>
                  <code class={status.startsWith("2") ? "status-ok" : "status-err"}>{status}</code>
                </dt>
                <dd>
                  {r.description}
                  {r.content?.["application/json"]?.schema && (
                    <>
                      {refName(r.content["application/json"].schema) && " · "}
                      <Schema schema={r.content["application/json"].schema} />
                    </>
                  )}
                </dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </article>
  );
}
