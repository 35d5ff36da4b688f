/**
 * Routes of an organization: hostnames (and a path prefix) → an app service's container port (or,
 * for platform admins, an external URL), with their options. Create and change answer once the
 * ingress has loaded the change (or refused it: `applied.ok` false with the proxy's words, the
 * last good config still serving). Hostnames are checked as a whole by the proxy service: a bad
 * one answers 400 naming `hostnames.N`; one another route owns answers 409. The basic-auth
 * password is write-only: it is stored as a bcrypt hash and never returned.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { routeCaller } from "../../../lib/http/callers.ts";
import type { AppContext } from "../../../lib/http/context.ts";
import type { Domain, Route } from "../../../lib/proxy/store.ts";
import { dnsRecordsOrNone, type IngressTarget } from "../../../lib/proxy/dns_check.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/routes";

const RouteParams = OrgParam.extend({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

const SpecInput = z.record(z.string(), z.unknown()).openapi("RouteSpec", {
  description: "`{ hostnames: [..], path_prefix?, target: { kind: 'app', app, service, port } | " +
    "{ kind: 'url', url }, tls?: 'acme'|'internal', https_redirect? (true), www? ('none'|'to_www'|" +
    "'to_apex'), strip_prefix?, request_headers?, response_headers?, basic_auth?: { username, " +
    "password }, rate_limit?: { per_second, burst }, max_body_bytes?, ip_allow?: [cidr], " +
    "maintenance? }`. Checked as a whole: every problem answers 400 naming its field.",
  example: {
    hostnames: ["shop.example.com"],
    target: { kind: "app", app: "shop", service: "web", port: 80 },
  },
});

const DomainSchema = z.object({
  hostname: z.string(),
  dns_status: z.enum(["unchecked", "pending", "verified", "wrong_target"]),
  dns_detail: z.string().nullable(),
  dns_checked_at: z.number().int().nullable(),
  tls_state: z.enum(["internal", "pending_dns", "issuing", "active", "expiring", "failed"]),
  tls_detail: z.string().nullable(),
  cert_issuer: z.string().nullable(),
  cert_not_after: z.number().int().nullable(),
  dns_records: z.array(z.object({
    type: z.enum(["A", "AAAA", "CNAME"]),
    name: z.string(),
    value: z.string(),
  })).openapi({ description: "The records to create at the DNS provider for this hostname" }),
}).openapi("Domain");

const RouteSchema = z.object({
  id: z.string(),
  spec: z.record(z.string(), z.unknown()).openapi({
    description: "The spec; basic_auth shows its username only",
  }),
  status: z.enum(["pending", "active", "error"]),
  last_error: z.string().nullable(),
  applied_at: z.number().int().nullable(),
  domains: z.array(DomainSchema),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("Route");

const Applied = z.object({
  ok: z.boolean(),
  at: z.number().int(),
  error: z.string().optional(),
}).openapi("ProxyApplyOutcome");

const ERRORS = {
  400: jsonResponse(z.any(), "A bad spec, each field named"),
  403: jsonResponse(z.any(), "A wildcard hostname or an external URL, for platform admins only"),
  404: jsonResponse(z.any(), "No such route"),
  409: jsonResponse(z.any(), "A hostname is in use by another route"),
} as const;

function routeView(r: Route, domains: Domain[], ingress: IngressTarget) {
  const { basic_auth, ...spec } = r.spec;
  return {
    id: r.id,
    spec: { ...spec, ...(basic_auth ? { basic_auth: { username: basic_auth.username } } : {}) },
    status: r.status,
    last_error: r.last_error,
    applied_at: r.applied_at,
    domains: domains.filter((d) => d.route_id === r.id).map((d) => ({
      hostname: d.hostname,
      dns_status: d.dns_status,
      dns_detail: d.dns_detail,
      dns_checked_at: d.dns_checked_at,
      tls_state: d.tls_state,
      tls_detail: d.tls_detail,
      cert_issuer: d.cert_issuer,
      cert_not_after: d.cert_not_after,
      dns_records: dnsRecordsOrNone(d.hostname, ingress),
    })),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

async function views(c: AppContext, routes: Route[]) {
  const { store } = c.var.services.proxy;
  const [domains, settings] = await Promise.all([
    store.domains(routes.map((r) => r.id)),
    store.settings(),
  ]);
  return routes.map((r) => routeView(r, domains, settings.ingress));
}

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["routes"],
  summary: "Routes of the organization, newest first",
  request: {
    params: OrgParam,
    query: z.object({
      search: z.string().max(253).optional().openapi({ description: "Part of a hostname" }),
      app: z.string().max(63).optional().openapi({ description: "Routes to this app" }),
      before: z.string().max(64).optional().openapi({
        description: "The last id of the previous page",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(RouteSchema) }), "Routes") },
});

const create = apiRoute("org:member", {
  method: "post",
  path: base,
  tags: ["routes"],
  summary: "Create a route; answers once the ingress has loaded it (or refused it)",
  request: { params: OrgParam, ...jsonBody(SpecInput) },
  responses: {
    201: jsonResponse(z.object({ route: RouteSchema, applied: Applied }), "Created"),
    ...ERRORS,
  },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{id}`,
  tags: ["routes"],
  summary: "One route with its hostnames' DNS and certificate state",
  request: { params: RouteParams },
  responses: { 200: jsonResponse(RouteSchema, "The route"), 404: ERRORS[404] },
});

const update = apiRoute("org:member", {
  method: "put",
  path: `${base}/{id}`,
  tags: ["routes"],
  summary: "Replace a route's spec; answers once the ingress has loaded it (or refused it)",
  request: { params: RouteParams, ...jsonBody(SpecInput) },
  responses: {
    200: jsonResponse(z.object({ route: RouteSchema, applied: Applied }), "Saved"),
    ...ERRORS,
  },
});

const remove = apiRoute("org:member", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["routes"],
  summary: "Delete a route; its hostnames are free again",
  request: { params: RouteParams },
  responses: { 200: jsonResponse(z.object({ applied: Applied }), "Deleted"), 404: ERRORS[404] },
});

const checkDns = apiRoute("org:member", {
  method: "post",
  path: `${base}/{id}/check-dns`,
  tags: ["routes"],
  summary: "Check the route's hostnames' DNS now and read their certificates",
  description: "Each hostname ends verified, pending or wrong_target with what was found; an " +
    "ACME hostname is handed to the CA only once verified.",
  request: { params: RouteParams },
  responses: { 200: jsonResponse(RouteSchema, "The route, checked"), 404: ERRORS[404] },
});

const caddyfile = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/proxy/caddyfile",
  tags: ["routes"],
  summary: "Every route as a Caddyfile, to download (for a Caddy run by hand)",
  responses: {
    200: {
      description: "The Caddyfile",
      content: { "text/plain": { schema: z.string() } },
    },
  },
});

const regenerate = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/proxy/regenerate",
  tags: ["routes"],
  summary: "Render every route again and load it into the ingress (Regenerate all)",
  responses: { 200: jsonResponse(z.object({ applied: Applied }), "Loaded, or why not") },
});

const SettingsSchema = z.object({
  provider: z.enum(["caddy", "traefik"]),
  ingress: z.object({
    ipv4: z.array(z.string()),
    ipv6: z.array(z.string()),
    cname: z.string().optional(),
  }),
  default_domain: z.string().nullable(),
  default_tls: z.enum(["acme", "internal"]),
  acme_email: z.string().nullable(),
  acme_ca: z.string().nullable(),
  traefik_dir: z.string().nullable(),
  traefik_cert_resolver: z.string().nullable(),
  updated_by: z.string().nullable(),
  updated_at: z.number().int(),
}).openapi("ProxySettings");

const getSettings = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/proxy/settings",
  tags: ["routes"],
  summary: "The ingress settings: provider, default domain, certificates",
  responses: { 200: jsonResponse(SettingsSchema, "Settings") },
});

const putSettings = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/proxy/settings",
  tags: ["routes"],
  summary: "Change the ingress settings; every route is rendered and loaded again",
  request: jsonBody(
    z.record(z.string(), z.unknown()).openapi({
      description: "`{ provider?, default_domain?, default_tls?, acme_email?, acme_ca?, " +
        "traefik_dir? }`; null clears a value.",
      example: { default_domain: "apps.example.com", default_tls: "internal" },
    }),
  ),
  responses: {
    200: jsonResponse(z.object({ settings: SettingsSchema, applied: Applied }), "Saved"),
    400: ERRORS[400],
  },
});

/** Route endpoints: reads for viewers, changes for members (policy per field in the service). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { search, app: target, before, limit } = c.req.valid("query");
    const routes = await c.var.services.proxy.store.list(orgScopeOf(c).org.id, {
      search,
      app: target,
      before,
      limit,
    });
    return c.json({ items: await views(c, routes) }, 200);
  });

  app.openapi(create, async (c) => {
    const r = await c.var.services.proxy.create(routeCaller(c), c.req.valid("json"));
    const [view] = await views(c, [r.route]);
    return c.json({ route: view, applied: r.applied }, 201);
  });

  app.openapi(get, async (c) => {
    const r = await c.var.services.proxy.store.get(orgScopeOf(c).org.id, c.req.valid("param").id);
    const [view] = await views(c, [r]);
    return c.json(view, 200);
  });

  app.openapi(update, async (c) => {
    const route = await c.var.services.proxy.store.get(
      orgScopeOf(c).org.id,
      c.req.valid("param").id,
    );
    const r = await c.var.services.proxy.update(routeCaller(c), route, c.req.valid("json"));
    const [view] = await views(c, [r.route]);
    return c.json({ route: view, applied: r.applied }, 200);
  });

  app.openapi(remove, async (c) => {
    const route = await c.var.services.proxy.store.get(
      orgScopeOf(c).org.id,
      c.req.valid("param").id,
    );
    return c.json({ applied: await c.var.services.proxy.remove(routeCaller(c), route) }, 200);
  });

  app.openapi(checkDns, async (c) => {
    const { proxy } = c.var.services;
    const route = await proxy.store.get(orgScopeOf(c).org.id, c.req.valid("param").id);
    await proxy.checkDns(route);
    const [view] = await views(c, [await proxy.store.get(route.org_id, route.id)]);
    return c.json(view, 200);
  });

  app.openapi(getSettings, async (c) => c.json(await c.var.services.proxy.store.settings(), 200));

  app.openapi(putSettings, async (c) => {
    const r = await c.var.services.proxy.saveSettings(actionContext(c), c.req.valid("json"));
    return c.json(r, 200);
  });

  app.openapi(caddyfile, async (c) => {
    const text = await c.var.services.ingress.caddyfile();
    return c.body(text, 200, {
      "content-type": "text/plain; charset=utf-8",
      "content-disposition": 'attachment; filename="Caddyfile"',
    });
  });

  app.openapi(regenerate, async (c) => {
    return c.json({ applied: await c.var.services.proxy.regenerate(actionContext(c)) }, 200);
  });
}
