import type { Hono } from "hono";
import type { AppEnv } from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { declaredRoutes, type Policy } from "../../lib/http/policy.ts";
import { toHonoPath } from "../../lib/http/openapi.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { type ApiOp, ApiOperation, compactJson, opId } from "../../components/ApiOperation.tsx";
import { type PageKit, render } from "../_render.tsx";

interface OpenApiDoc {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, Omit<ApiOp, "method" | "path" | "access">>>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** The route's declared policy in words; the same policy the guard enforces. */
function accessOf(method: string, path: string): string {
  const r = declaredRoutes.find((d) =>
    d.kind === "api" && d.method === method.toUpperCase() && d.path === toHonoPath(path)
  );
  const policy: Policy | undefined = r?.policy;
  const write = method !== "get" ? " Tokens need the write scope." : "";
  if (!policy) return "Unknown";
  if (policy === "public") return "Public: no credentials.";
  if (policy === "user") return `Any signed-in user or API token.${write}`;
  if (policy === "platform_admin") {
    return "Platform admins, signed in (API tokens never carry platform-admin power).";
  }
  return `Members of the organization with the ${
    policy.slice(4)
  } role or higher (session, or a token of that organization).${write}`;
}

/** Operations grouped by their first tag, in document order. */
function groups(doc: OpenApiDoc): Map<string, ApiOp[]> {
  const out = new Map<string, ApiOp[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "other";
      if (!out.has(tag)) out.set(tag, []);
      out.get(tag)!.push({ ...op, method, path, access: accessOf(method, path) });
    }
  }
  return out;
}

/** `GET /docs/api`: the API reference, rendered on the server from the app's own OpenAPI document. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  let cached: { doc: OpenApiDoc; byTag: Map<string, ApiOp[]> } | undefined;
  page(app, "GET", "/docs/api", "public", (c) => {
    // Routes are fixed once the app is built, so the document is computed once.
    if (!cached) {
      const doc = kit.openapi() as OpenApiDoc;
      cached = { doc, byTag: groups(doc) };
    }
    const { doc, byTag } = cached;
    const schemas = Object.entries(doc.components?.schemas ?? {});
    return render(
      c,
      <div class="docs">
        <PageHeader
          title="API reference"
          sub={<>{doc.info?.title} {doc.info?.version} · {doc.info?.description}</>}
        >
          <a class="btn" href="/api/v1/openapi.json">openapi.json</a>
        </PageHeader>
        <section class="card">
          <h2>Calling the API</h2>
          <p>
            Send an API token in the header: <code>Authorization: Bearer cap_…</code>{" "}
            (create one under{" "}
            <a href="/account/tokens">API tokens</a>). Tokens in the query string are refused.
            Errors look like{" "}
            <code>{`{"error":{"code":"validation","message":"…","fields":{…}}}`}</code>.
          </p>
          <p>
            Realtime: <code>GET /api/v1/ws</code> is a WebSocket. Send{" "}
            <code>{`{"type":"subscribe","topic":"org:<orgId>:audit"}`}</code> and receive{" "}
            <code>{`{"type":"event","topic","data"}`}</code> frames.
          </p>
          <nav aria-label="Operations" class="toc">
            {[...byTag].map(([tag, ops]) => (
              <div key={tag}>
                <h3>{tag}</h3>
                <ul class="plain">
                  {ops.map((op) => (
                    <li key={opId(op.method, op.path)}>
                      <a href={`#${opId(op.method, op.path)}`}>
                        <span class={`method method-${op.method}`}>{op.method.toUpperCase()}</span>
                        {" "}
                        <code>{op.path}</code>
                      </a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
        </section>
        {[...byTag].map(([tag, ops]) => (
          <section key={tag} class="op-group" aria-labelledby={`tag-${tag}`}>
            <h2 id={`tag-${tag}`}>{tag}</h2>
            {ops.map((op) => <ApiOperation key={opId(op.method, op.path)} op={op} />)}
          </section>
        ))}
        {schemas.length > 0 && (
          <section class="op-group" aria-labelledby="schemas">
            <h2 id="schemas">Schemas</h2>
            {schemas.map(([name, schema]) => (
              <article key={name} class="card" id={`schema-${name}`}>
                <h3>
                  <code>{name}</code>
                </h3>
                <pre class="code">{compactJson(schema)}</pre>
              </article>
            ))}
          </section>
        )}
      </div>,
      { title: "API reference", active: "docs" },
    );
  });
}
