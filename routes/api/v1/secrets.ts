/**
 * Secrets of an organization: names, descriptions, versions and which apps use them — never a
 * value. Viewers read the list; organization admins and owners create, rotate and delete (members
 * attach secrets to apps, in the app's spec). A value goes in once (`value` for text,
 * `value_base64` for binary, ≤ 64 KB) and is never answered again; a rotation picks how the apps
 * that use it restart. Deleting answers 409 naming the apps while any uses it.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { secretCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/secrets";

const NameParams = OrgParam.extend({
  name: z.string().min(1).max(64).openapi({ param: { name: "name", in: "path" } }),
});

const Use = z.object({
  app_id: z.string(),
  app: z.string(),
  services: z.array(z.object({
    service: z.string(),
    env: z.string().optional().openapi({ description: "The environment variable it is in" }),
    file: z.string().optional().openapi({ description: "The path of the file it is mounted at" }),
  })),
  deployed_version: z.number().int().nullable().openapi({
    description: "The version the app's running deployment uses",
  }),
}).openapi("SecretUse");

const SecretSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(["text", "binary"]).openapi({
    description: "Text secrets work as environment variables and files; binary ones as files only",
  }),
  current_version: z.number().int(),
  created_by: z.string().nullable(),
  created_at: z.number().int(),
  updated_by: z.string().nullable(),
  updated_at: z.number().int(),
  used_by: z.array(Use),
}).openapi("Secret");

const VersionSchema = z.object({
  version: z.number().int(),
  size_bytes: z.number().int(),
  created_by: z.string().nullable(),
  created_at: z.number().int(),
}).openapi("SecretVersion");

const EventSchema = z.object({
  id: z.string(),
  at: z.number().int(),
  kind: z.enum(["created", "rotated", "restarted", "purged", "deployed"]),
  version: z.number().int().nullable(),
  actor_name: z.string().nullable(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
}).openapi("SecretEvent");

const CreateBody = z.object({
  name: z.string().openapi({ example: "DATABASE_PASSWORD" }),
  description: z.string().optional(),
  value: z.string().optional().openapi({ description: "A text value (write-only)" }),
  value_base64: z.string().optional().openapi({
    description: "A binary value, base64 (write-only)",
  }),
}).openapi("SecretCreate");

const UpdateBody = z.object({
  description: z.string().optional(),
  value: z.string().optional().openapi({ description: "A new text value: a new version" }),
  value_base64: z.string().optional().openapi({ description: "A new binary value: a new version" }),
  rotation: z.enum(["rolling", "next_deploy", "restart"]).optional().openapi({
    description: "How apps that use it pick up a new value: `rolling` (default) restarts them " +
      "now start-first and health-gated, with no dropped request; `restart` restarts them now " +
      "stop-first (single-replica apps that cannot overlap); `next_deploy` waits for their next " +
      "deployment.",
  }),
}).openapi("SecretUpdate");

const ERRORS = {
  400: jsonResponse(z.any(), "A bad name or value, the field named"),
  403: jsonResponse(z.any(), "Only organization admins and owners change secrets"),
  404: jsonResponse(z.any(), "No such secret"),
  409: jsonResponse(z.any(), "The name is taken, or an app uses the secret (named)"),
} as const;

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["secrets"],
  summary: "Secrets of the organization by name, with their versions and the apps that use them",
  request: {
    params: OrgParam,
    query: z.object({
      search: z.string().max(64).optional().openapi({ description: "Part of a name" }),
      after: z.string().max(64).optional().openapi({
        description: "The last name of the previous page",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(SecretSchema) }), "Secrets") },
});

const create = apiRoute("org:admin", {
  method: "post",
  path: base,
  tags: ["secrets"],
  summary: "Create a secret (version 1); its value is never shown again",
  request: { params: OrgParam, ...jsonBody(CreateBody) },
  responses: { 201: jsonResponse(SecretSchema, "Created"), ...ERRORS },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{name}`,
  tags: ["secrets"],
  summary: "One secret: its facts, versions kept and the apps that use it",
  request: { params: NameParams },
  responses: {
    200: jsonResponse(SecretSchema.extend({ versions: z.array(VersionSchema) }), "The secret"),
    404: ERRORS[404],
  },
});

const update = apiRoute("org:admin", {
  method: "put",
  path: `${base}/{name}`,
  tags: ["secrets"],
  summary: "Change the description, or rotate the value (a new version)",
  request: { params: NameParams, ...jsonBody(UpdateBody) },
  responses: {
    200: jsonResponse(
      z.object({
        secret: SecretSchema,
        version: z.number().int(),
        rotation: z.enum(["rolling", "next_deploy", "restart"]),
      }),
      "Saved; apps restart as `rotation` says (see the trail)",
    ),
    ...ERRORS,
  },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{name}`,
  tags: ["secrets"],
  summary: "Delete a secret and every version; refused while an app uses it",
  request: { params: NameParams },
  responses: { 204: { description: "Deleted" }, ...ERRORS },
});

const trail = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{name}/trail`,
  tags: ["secrets"],
  summary: "The secret's trail: created, rotated, which apps restarted, purged versions",
  request: {
    params: NameParams,
    query: z.object({
      before: z.string().max(64).optional().openapi({
        description: "The last id of the previous page",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(EventSchema) }), "Newest first"),
    404: ERRORS[404],
  },
});

const useView = <U extends { secret: string }>({ secret: _s, ...u }: U) => u;

/** Secret endpoints: reads for viewers, changes for organization admins. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { search, after, limit } = c.req.valid("query");
    const items = await c.var.services.secrets.list(orgScopeOf(c).org.id, { search, after, limit });
    return c.json({ items: items.map((s) => ({ ...s, used_by: s.used_by.map(useView) })) }, 200);
  });

  app.openapi(create, async (c) => {
    const s = await c.var.services.secrets.create(secretCaller(c), c.req.valid("json"));
    return c.json({ ...s, used_by: s.used_by.map(useView) }, 201);
  });

  app.openapi(get, async (c) => {
    const s = await c.var.services.secrets.get(orgScopeOf(c).org.id, c.req.valid("param").name);
    return c.json({
      ...s,
      used_by: s.used_by.map(useView),
      versions: s.versions.map((v) => ({
        version: v.version,
        size_bytes: v.size_bytes,
        created_by: v.created_by,
        created_at: v.created_at,
      })),
    }, 200);
  });

  app.openapi(update, async (c) => {
    const r = await c.var.services.secrets.update(
      secretCaller(c),
      c.req.valid("param").name,
      c.req.valid("json"),
    );
    return c.json({
      secret: { ...r.secret, used_by: r.secret.used_by.map(useView) },
      version: r.version,
      rotation: r.mode,
    }, 200);
  });

  app.openapi(remove, async (c) => {
    await c.var.services.secrets.remove(secretCaller(c), c.req.valid("param").name);
    return c.body(null, 204);
  });

  app.openapi(trail, async (c) => {
    const { before, limit } = c.req.valid("query");
    const items = await c.var.services.secrets.trail(
      orgScopeOf(c).org.id,
      c.req.valid("param").name,
      { before, limit },
    );
    return c.json({ items }, 200);
  });
}
