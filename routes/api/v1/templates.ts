/**
 * Templates of an organization: the catalog (built-ins and its own; category and search filters),
 * one template with its YAML, organization templates saved from YAML (admins; problems answer 400
 * with `source:<line>:<column>` fields; built-ins are read-only; deleting one an app came from is
 * a 409), provisioning (members: 202 with the provisioning to follow) and deprovisioning an app.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { templateCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/templates";

const IdParams = OrgParam.extend({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

const Entry = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  tags: z.array(z.string()),
  icon: z.string().nullable(),
  version: z.string(),
  source: z.enum(["builtin", "org"]),
  used: z.number().int().openapi({ description: "Provisionings in this organization" }),
  last_used: z.number().int().nullable(),
}).openapi("TemplateEntry");

const ProvisionSchema = z.object({
  id: z.string(),
  template_id: z.string(),
  template_version: z.string(),
  source: z.enum(["builtin", "org"]),
  app_name: z.string(),
  app_id: z.string().nullable(),
  domain: z.string().nullable(),
  status: z.enum(["provisioning", "ready", "failed"]),
  step: z.string(),
  error: z.string().nullable(),
  steps: z.array(z.object({
    step: z.string(),
    status: z.enum(["running", "done", "failed", "undone"]),
    message: z.string().optional(),
    at: z.number().int(),
  })),
  created: z.object({
    secrets: z.array(z.string()),
    route_id: z.string().optional(),
    volumes: z.array(z.string()),
  }),
  values: z.record(z.string(), z.unknown()).openapi({
    description: "The variables' values, secrets excluded",
  }),
  created_at: z.number().int(),
  finished_at: z.number().int().nullable(),
}).openapi("Provision");

const ERRORS = {
  400: jsonResponse(z.any(), "A bad template, name, domain or value, each field named"),
  403: jsonResponse(z.any(), "Not allowed for this role (built-ins are read-only)"),
  404: jsonResponse(z.any(), "No such template (or app, or provisioning)"),
  409: jsonResponse(z.any(), "A name, domain, secret or template id is taken, or in use"),
} as const;

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["templates"],
  summary: "Built-in and organization templates, most used first",
  request: {
    params: OrgParam,
    query: z.object({
      category: z.string().max(32).optional(),
      search: z.string().max(100).optional(),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(Entry) }), "Templates") },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{id}`,
  tags: ["templates"],
  summary: "One template: its entry, the parsed template and its YAML",
  request: { params: IdParams },
  responses: {
    200: jsonResponse(
      Entry.extend({ template: z.record(z.string(), z.unknown()), yaml: z.string() }),
      "The template",
    ),
    404: ERRORS[404],
  },
});

const SourceBody = z.object({
  source: z.string().openapi({ description: "The template's YAML (at most 64 KB)" }),
}).openapi("TemplateSource");

const check = apiRoute("org:member", {
  method: "post",
  path: `${base}/check`,
  tags: ["templates"],
  summary: "Check a template's YAML without saving it: its problems by line, or what it creates",
  request: { params: OrgParam, ...jsonBody(SourceBody) },
  responses: {
    200: jsonResponse(
      z.object({
        ok: z.boolean(),
        problems: z.array(z.object({
          path: z.string(),
          line: z.number().int(),
          column: z.number().int(),
          message: z.string(),
        })),
        services: z.array(z.object({
          name: z.string(),
          image: z.string(),
          depends_on: z.array(z.string()),
          port: z.number().int().nullable(),
        })),
      }),
      "The check",
    ),
  },
});

const create = apiRoute("org:admin", {
  method: "post",
  path: base,
  tags: ["templates"],
  summary: "Save an organization template",
  request: { params: OrgParam, ...jsonBody(SourceBody) },
  responses: { 201: jsonResponse(Entry.partial(), "Saved"), ...ERRORS },
});

const update = apiRoute("org:admin", {
  method: "put",
  path: `${base}/{id}`,
  tags: ["templates"],
  summary: "Replace an organization template (its id stays)",
  request: { params: IdParams, ...jsonBody(SourceBody) },
  responses: { 200: jsonResponse(Entry.partial(), "Saved"), ...ERRORS },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["templates"],
  summary: "Delete an organization template; refused while an app made from it exists",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...ERRORS },
});

const deploy = apiRoute("org:member", {
  method: "post",
  path: `${base}/{id}/deploy`,
  tags: ["templates"],
  summary: "Provision a template: secrets, an app in dependency order, a route",
  description: "Every check that can be made first answers 400/409; then 202 with the " +
    "provisioning, whose steps go on in the background (`GET …/provisions/{id}` or the realtime " +
    "topic `org:<org>:provision.<id>`). A failed step takes back what was made.",
  request: {
    params: IdParams,
    ...jsonBody(z.object({
      name: z.string().openapi({ description: "The app's name", example: "blog" }),
      domain: z.string().optional().openapi({ example: "blog.example.com" }),
      values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    })),
  },
  responses: { 202: jsonResponse(ProvisionSchema, "Provisioning"), ...ERRORS },
});

const provision = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/provisions/{id}",
  tags: ["templates"],
  summary: "A provisioning: its steps, what it made, and how it ended",
  request: { params: IdParams },
  responses: { 200: jsonResponse(ProvisionSchema, "The provisioning"), 404: ERRORS[404] },
});

const provisions = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/provisions",
  tags: ["templates"],
  summary: "Provisionings of the organization, newest first",
  request: {
    params: OrgParam,
    query: z.object({
      before: z.string().max(64).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(ProvisionSchema) }), "Provisionings") },
});

const deprovision = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/apps/{app}/deprovision",
  tags: ["templates"],
  summary: "Take an app down: routes, services, its template's secrets; volumes only when asked",
  description: "`volumes: true` needs `confirm` set to the app's name. Kept volumes are listed.",
  request: {
    params: OrgParam.extend({
      app: z.string().min(1).max(64).openapi({ param: { name: "app", in: "path" } }),
    }),
    ...jsonBody(z.object({
      volumes: z.boolean().optional(),
      confirm: z.string().max(64).optional(),
    })),
  },
  responses: {
    200: jsonResponse(
      z.object({
        routes: z.number().int(),
        secrets: z.array(z.string()),
        volumes_kept: z.array(z.string()),
      }),
      "Taken down",
    ),
    ...ERRORS,
  },
});

const provisionView = <P extends { org_id?: string; created_by?: unknown; source_ref?: unknown }>(
  { org_id: _o, created_by: _c, source_ref: _s, ...p }: P,
) => p;

/** Template endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const items = await c.var.services.templates.catalog(
      orgScopeOf(c).org.id,
      c.req.valid("query"),
    );
    return c.json({ items }, 200);
  });

  // Before `{id}`: a template may not be called "check" anyway, its POST is a different route.
  app.openapi(check, (c) => {
    const r = c.var.services.templates.check(c.req.valid("json").source);
    return c.json({
      ok: Boolean(r.template),
      problems: r.problems,
      services: Object.entries(r.template?.services ?? {}).map(([name, s]) => ({
        name,
        image: s.image,
        depends_on: Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}),
        port: s.port ?? null,
      })),
    }, 200);
  });

  app.openapi(get, async (c) => {
    const t = await c.var.services.templates.get(orgScopeOf(c).org.id, c.req.valid("param").id);
    return c.json({ ...t, template: t.template as unknown as Record<string, unknown> }, 200);
  });

  app.openapi(create, async (c) => {
    const t = await c.var.services.templates.save(templateCaller(c), c.req.valid("json").source);
    return c.json(
      { id: t.template_id, name: t.name, category: t.category, version: t.version },
      201,
    );
  });

  app.openapi(update, async (c) => {
    const t = await c.var.services.templates.save(
      templateCaller(c),
      c.req.valid("json").source,
      c.req.valid("param").id,
    );
    return c.json(
      { id: t.template_id, name: t.name, category: t.category, version: t.version },
      200,
    );
  });

  app.openapi(remove, async (c) => {
    await c.var.services.templates.remove(templateCaller(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(deploy, async (c) => {
    const p = await c.var.services.templates.deploy(
      templateCaller(c),
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(provisionView(p), 202);
  });

  app.openapi(provision, async (c) => {
    const p = await c.var.services.templates.store.provision(
      orgScopeOf(c).org.id,
      c.req.valid("param").id,
    );
    return c.json(provisionView(p), 200);
  });

  app.openapi(provisions, async (c) => {
    const items = await c.var.services.templates.store.provisions(
      orgScopeOf(c).org.id,
      c.req.valid("query"),
    );
    return c.json({ items: items.map(provisionView) }, 200);
  });

  app.openapi(deprovision, async (c) => {
    const org = orgScopeOf(c).org;
    const target = await c.var.services.apps.store.get(org.id, c.req.valid("param").app);
    const r = await c.var.services.templates.deprovision(
      templateCaller(c),
      target,
      c.req.valid("json"),
    );
    return c.json(r, 200);
  });
}
