/**
 * NAS backup status: an organization's NAS targets reached over SSH, read-only, and what their
 * last check found per site (each direct child of the backup root): its newest backup and whether
 * it is older than the target's threshold. Viewers read; organization admins add, change, delete
 * and "Check now". Credentials are write-only: a password goes in once, a generated key's private
 * half never leaves the hub (its public half is answered, to paste into authorized_keys).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { nasCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/storage/nas";

const TargetParams = OrgParam.extend({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

const SiteSchema = z.object({
  name: z.string(),
  newest_path: z.string().openapi({ description: "Its newest entry, relative to the site" }),
  newest_mtime: z.number().int(),
  checked_at: z.number().int(),
  age_hours: z.number().int().openapi({ description: "Last backup N hours ago" }),
  stale: z.boolean().openapi({ description: "Older than the target's threshold" }),
}).openapi("NasSite");

const TargetSchema = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  auth: z.enum(["key", "password"]),
  password_set: z.boolean().openapi({ description: "A password is stored (it is never shown)" }),
  public_key: z.string().nullable().openapi({
    description: "Key auth: the line to add to the NAS user's authorized_keys",
  }),
  key_fingerprint: z.string().nullable(),
  known_host_fingerprint: z.string().nullable().openapi({
    description: "The NAS's host key, pinned on the first check",
  }),
  backup_root: z.string(),
  stale_threshold_hours: z.number().int(),
  last_checked_at: z.number().int().nullable(),
  last_error: z.string().nullable(),
  truncated: z.boolean().openapi({
    description: "The last listing stopped at its entry limit (5000)",
  }),
  sites: z.array(SiteSchema),
  stale_sites: z.number().int(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("NasTarget");

const fields = {
  name: z.string().openapi({ example: "office-nas" }),
  host: z.string().openapi({ example: "nas.example.lan" }),
  port: z.number().int().openapi({ description: "Default 22" }),
  user: z.string().openapi({ example: "backup" }),
  auth: z.enum(["key", "password"]).openapi({
    description: "`key` (default) generates an Ed25519 key; its public half is answered",
  }),
  password: z.string().openapi({ description: "Password auth (write-only)" }),
  backup_root: z.string().openapi({
    example: "/volume1/backups",
    description: "Absolute; letters, digits, spaces and . _ @ + / -",
  }),
  stale_threshold_hours: z.number().int().openapi({
    description: "nas_stale_threshold_hours: a site older than this is stale (default 48)",
  }),
};

const CreateBody = z.object({
  ...fields,
  port: fields.port.optional(),
  auth: fields.auth.optional(),
  password: fields.password.optional(),
  stale_threshold_hours: fields.stale_threshold_hours.optional(),
}).openapi("NasTargetInput");

const PatchBody = z.object({
  ...fields,
  forget_host_key: z.boolean().openapi({
    description: "Pin the NAS's host key again on the next check",
  }),
  new_key: z.boolean().openapi({ description: "Key auth: generate a new key pair" }),
}).partial().openapi("NasTargetPatch");

const ERRORS = {
  400: jsonResponse(z.any(), "Bad input, the field named"),
  403: jsonResponse(z.any(), "The role or token may not"),
  404: jsonResponse(z.any(), "No such NAS target"),
  409: jsonResponse(z.any(), "The name is in use"),
} as const;

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["storage"],
  summary: "The organization's NAS targets with each site's last backup (never a credential)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(TargetSchema) }), "Targets") },
});

const create = apiRoute("org:admin", {
  method: "post",
  path: base,
  tags: ["storage"],
  summary: "Add a NAS target (key auth answers the public key to install)",
  request: { params: OrgParam, ...jsonBody(CreateBody) },
  responses: { 201: jsonResponse(TargetSchema, "Added"), ...ERRORS },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "One NAS target and its sites",
  request: { params: TargetParams },
  responses: { 200: jsonResponse(TargetSchema, "The target"), 404: ERRORS[404] },
});

const patch = apiRoute("org:admin", {
  method: "patch",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Change a NAS target; a new host or port pins the host key again",
  request: { params: TargetParams, ...jsonBody(PatchBody) },
  responses: { 200: jsonResponse(TargetSchema, "Changed"), ...ERRORS },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Delete a NAS target (its alerts end)",
  request: { params: TargetParams },
  responses: { 204: { description: "Deleted" }, ...ERRORS },
});

const check = apiRoute("org:admin", {
  method: "post",
  path: `${base}/{id}/check`,
  tags: ["storage"],
  summary: "Check the NAS now; a failed check is answered in `last_error`",
  request: { params: TargetParams },
  responses: { 200: jsonResponse(TargetSchema, "Checked"), ...ERRORS },
});

/** NAS endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    return c.json({ items: await c.var.services.nas.list(orgScopeOf(c).org.id) }, 200);
  });

  app.openapi(create, async (c) => {
    return c.json(await c.var.services.nas.create(nasCaller(c), c.req.valid("json")), 201);
  });

  app.openapi(get, async (c) => {
    return c.json(await c.var.services.nas.get(orgScopeOf(c).org.id, c.req.valid("param").id), 200);
  });

  app.openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await c.var.services.nas.update(nasCaller(c), id, c.req.valid("json")), 200);
  });

  app.openapi(remove, async (c) => {
    await c.var.services.nas.remove(nasCaller(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(check, async (c) => {
    return c.json(await c.var.services.nas.check(nasCaller(c), c.req.valid("param").id), 200);
  });
}
