/**
 * Storage targets of volume snapshots: a folder on the hosts (or a NAS share mounted there), an
 * SFTP server, or S3-compatible object storage. Viewers read them, admins write them; secrets (an
 * S3 secret key, an SFTP private key, the generated repository password) are write-only and never
 * answered — `secrets_set` says which are stored. "Test connection" and "Verify now" record their
 * outcome on the target and are audited like every change.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/storage/targets";
const TargetParams = OrgParam.merge(IdParam);

export const StorageTargetSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["filesystem", "sftp", "s3"]),
  config: z.record(z.string(), z.unknown()).openapi({
    description: "Settings that are not secret (path; host, port, user, path, known_hosts; " +
      "endpoint, region, bucket, prefix, access_key_id, path_style, ca_pem)",
  }),
  secrets_set: z.array(z.string()).openapi({
    description: "Which write-only secrets are stored (their values are never returned)",
  }),
  is_default: z.boolean(),
  tested_at: z.number().int().nullable(),
  test_ok: z.boolean().nullable(),
  test_error: z.string().nullable(),
  verify_cron: z.string().openapi({ description: "When it is verified (cron, UTC)" }),
  verified_at: z.number().int().nullable().openapi({
    description: 'When the last verification passed (the "verified" badge\'s date)',
  }),
  verify_status: z.enum(["none", "running", "ok", "failed"]),
  verify_error: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("StorageTarget");

const settings = {
  is_default: z.boolean().optional().openapi({ description: "New snapshots go here by default" }),
  verify_cron: z.string().optional().openapi({
    description: "Five cron fields in UTC; default weekly, Sunday 03:00",
    example: "0 3 * * 0",
  }),
  path: z.string().optional().openapi({
    description: "filesystem: absolute folder on each host (default `<data dir>/snapshots`); " +
      "sftp: folder on the server",
  }),
  host: z.string().optional().openapi({ description: "sftp" }),
  port: z.number().int().optional().openapi({ description: "sftp (default 22)" }),
  user: z.string().optional().openapi({ description: "sftp" }),
  private_key: z.string().optional().openapi({ description: "sftp: OpenSSH key (write-only)" }),
  known_hosts: z.string().optional().openapi({ description: "sftp: lines pinning its host key" }),
  endpoint: z.string().optional().openapi({
    description: "s3: https:// endpoint, e.g. https://<ref>.supabase.co/storage/v1/s3",
  }),
  region: z.string().optional().openapi({ description: "s3 (default us-east-1)" }),
  bucket: z.string().optional().openapi({ description: "s3" }),
  prefix: z.string().optional().openapi({ description: "s3: folder in the bucket" }),
  access_key_id: z.string().optional().openapi({ description: "s3" }),
  secret_access_key: z.string().optional().openapi({ description: "s3 (write-only)" }),
  path_style: z.boolean().optional().openapi({ description: "s3 (default true)" }),
  ca_pem: z.string().optional().openapi({ description: "s3: PEM of a CA to trust for it only" }),
};

const TargetBody = z.object({
  kind: z.enum(["filesystem", "sftp", "s3"]),
  name: z.string(),
  ...settings,
}).openapi("StorageTargetInput");

const TargetPatchBody = z.object({ name: z.string().optional(), ...settings }).openapi(
  "StorageTargetPatch",
);

const ConnectionSchema = z.object({
  ok: z.boolean(),
  from: z.string().openapi({ description: "`hub` (S3), or the id of the host it was tried from" }),
  step: z.string().nullable().openapi({
    description: "The failed step: check, write, read, delete (S3) or list (restic on a host)",
  }),
  failure: z.string().nullable().openapi({
    description: "Why (S3: dns, tls, connect, credentials, bucket_missing, …; restic)",
  }),
  message: z.string().nullable(),
  elapsed_ms: z.number().int(),
}).openapi("StorageTargetTest");

const ERRORS = {
  404: jsonResponse(z.any(), "No such target"),
  409: jsonResponse(z.any(), "The target holds snapshots, or a verification runs"),
} as const;

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["storage"],
  summary: "The organization's snapshot targets (never a secret)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(StorageTargetSchema) }), "Targets") },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "One snapshot target, with its last test and verification",
  request: { params: TargetParams },
  responses: { 200: jsonResponse(StorageTargetSchema, "The target"), 404: ERRORS[404] },
});

const create = apiRoute("org:admin", {
  method: "post",
  path: base,
  tags: ["storage"],
  summary: "Add a filesystem, SFTP or S3-compatible target",
  description: "The organization's first target is its default. Capstan generates the restic " +
    "repository's password (never shown). S3 covers AWS, MinIO, R2, B2 and Supabase Storage.",
  request: { params: OrgParam, ...jsonBody(TargetBody) },
  responses: { 201: jsonResponse(StorageTargetSchema, "Added") },
});

const update = apiRoute("org:admin", {
  method: "patch",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Change a target's settings; an omitted secret keeps its stored value",
  request: { params: TargetParams, ...jsonBody(TargetPatchBody) },
  responses: { 200: jsonResponse(StorageTargetSchema, "Changed"), 404: ERRORS[404] },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Forget a target that holds no snapshots (its repository's data is left alone)",
  request: { params: TargetParams },
  responses: { 204: { description: "Removed" }, ...ERRORS },
});

const test = apiRoute("org:admin", {
  method: "post",
  path: `${base}/{id}/test`,
  tags: ["storage"],
  summary: "Test connection: S3 writes, reads and deletes a probe object from the hub; " +
    "filesystem and SFTP list the repository from an online host",
  description: "The outcome is recorded on the target (`tested_at`, `test_ok`, `test_error`). " +
    "S3 endpoints follow the outbound policy: link-local and metadata addresses never, loopback " +
    "and private ones only with CAPSTAN_ALLOW_PRIVATE_TARGETS=1.",
  request: {
    params: TargetParams,
    body: {
      content: {
        "application/json": {
          schema: z.object({
            host_id: z.string().max(64).optional().openapi({
              description: "The host to try from (filesystem, sftp); default the hub's own, " +
                "else the first online one",
            }),
          }),
        },
      },
      required: false,
    },
  },
  responses: { 200: jsonResponse(ConnectionSchema, "The outcome"), ...ERRORS },
});

const verify = apiRoute("org:admin", {
  method: "post",
  path: `${base}/{id}/verify`,
  tags: ["storage"],
  summary: "Verify now: restic check of the repository, then a test restore of its newest " +
    "snapshot into a scratch volume",
  description: "Answers at once with `verify_status` running; the outcome lands on the target " +
    "(ok with `verified_at`, or failed with `verify_error`, which also raises an alert).",
  request: { params: TargetParams },
  responses: { 202: jsonResponse(StorageTargetSchema, "Started"), ...ERRORS },
});

/** Storage target endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json({ items: await c.var.services.storageTargets.list(org.id) }, 200);
  });

  app.openapi(get, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(await c.var.services.storageTargets.get(org.id, c.req.valid("param").id), 200);
  });

  app.openapi(create, async (c) => {
    const { org } = orgScopeOf(c);
    const t = await c.var.services.storageTargets.create(
      actionContext(c),
      org.id,
      c.req.valid("json"),
    );
    return c.json(t, 201);
  });

  app.openapi(update, async (c) => {
    const { org } = orgScopeOf(c);
    const t = await c.var.services.storageTargets.update(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(t, 200);
  });

  app.openapi(remove, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.storageTargets.remove(actionContext(c), org.id, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(test, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.storageConnection.test(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json") ?? {},
    );
    return c.json(r, 200);
  });

  app.openapi(verify, async (c) => {
    const { org } = orgScopeOf(c);
    const { target } = await c.var.services.snapshotVerify.verifyNow(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
    );
    return c.json(target, 202);
  });
}
