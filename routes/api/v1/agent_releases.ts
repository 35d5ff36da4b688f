import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { declare, guard } from "../../../lib/http/policy.ts";
import { HttpError, notFound } from "../../../lib/http/errors.ts";
import { CurrentRelease, OutcomeReport } from "../../../lib/protocol/release.ts";
import { FILE_NAME_PATTERN, SEMVER_PATTERN } from "../../../lib/release_format/manifest.ts";
import { MAX_CHUNK_BYTES } from "../../../lib/releases/service.ts";
import { requestAgentUpdate } from "../../../lib/agents/update_request.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const VersionParam = z.object({
  version: z.string().max(64).regex(SEMVER_PATTERN, "must be a version like 1.2.3").openapi({
    param: { name: "version", in: "path" },
    example: "0.2.0",
  }),
});
const FileParams = VersionParam.extend({
  name: z.string().regex(FILE_NAME_PATTERN, "letters, digits and . _ -, no slashes").openapi({
    param: { name: "name", in: "path" },
  }),
});
const Label = z.string().max(300).regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}=[^\r\n\0]{0,160}$/,
  "must be key=value",
);

const RolloutSchema = z.object({
  id: z.string(),
  version: z.string(),
  percent: z.number().int(),
  label: z.string().nullable(),
  pinned: z.boolean(),
  max_failures: z.number().int(),
  max_failure_percent: z.number().int(),
  status: z.enum(["active", "halted", "superseded"]),
  halted_reason: z.string().nullable(),
  created_at: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
}).openapi("AgentRollout");

const ReleaseSchema = z.object({
  id: z.string(),
  version: z.string(),
  status: z.enum(["uploading", "ready"]),
  key_id: z.string(),
  created_at: z.number().int(),
  files: z.array(z.object({
    name: z.string(),
    target: z.string(),
    arch: z.string(),
    sha256: z.string(),
    size: z.number().int(),
  })),
  rollouts: z.array(RolloutSchema),
}).openapi("AgentRelease");

const tags = ["agent releases"];

const listReleases = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/agent/releases",
  tags,
  summary: "Agent releases the hub holds, newest first, with their rollouts (platform admins)",
  responses: { 200: jsonResponse(z.object({ items: z.array(ReleaseSchema) }), "Releases") },
});

const createRelease = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/agent/releases",
  tags,
  summary: "Start an upload: the signed manifest (platform admins)",
  description:
    "`manifest` is the exact text of manifest.json and `signature` the base64 Ed25519 signature of " +
    "manifest.json.sig. The signature must verify with a trusted release key before anything is " +
    "stored. Then PUT each file in chunks; the release is ready when all files match the manifest.",
  request: jsonBody(z.object({
    manifest: z.string().min(2).max(64 * 1024),
    signature: z.string().min(1).max(200),
  })),
  responses: {
    201: jsonResponse(z.object({ version: z.string(), status: z.string() }), "Upload started"),
    409: jsonResponse(z.any(), "That version exists"),
    422: jsonResponse(z.any(), "The signature does not verify, or no release keys are configured"),
  },
});

const uploadChunk = apiRoute("platform_admin", {
  method: "put",
  path: "/api/v1/agent/releases/{version}/files/{name}",
  tags,
  summary: `Upload one chunk (at most ${MAX_CHUNK_BYTES} bytes) of a release file at an offset`,
  description:
    "Chunks go in order (`offset` = bytes received so far). When the file is complete it is checked " +
    "against the manifest's size and SHA-256; a mismatch discards it (422).",
  request: {
    params: FileParams,
    query: z.object({ offset: z.coerce.number().int().min(0) }),
    body: {
      content: { "application/octet-stream": { schema: z.any().openapi({ format: "binary" }) } },
    },
  },
  responses: {
    200: jsonResponse(
      z.object({ received: z.number(), complete: z.boolean(), release_ready: z.boolean() }),
      "Chunk stored",
    ),
    409: jsonResponse(z.any(), "Wrong offset"),
    422: jsonResponse(z.any(), "The file does not match the manifest"),
  },
});

const RolloutInput = z.object({
  percent: z.number().int().min(0).max(100),
  label: Label.nullable().optional(),
  pinned: z.boolean().default(false).openapi({
    description: "Let hosts move to this version even when it is older (a downgrade)",
  }),
  max_failures: z.number().int().min(0).max(100_000).default(2),
  max_failure_percent: z.number().int().min(0).max(100).default(25),
});

const startRollout = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/agent/releases/{version}/rollouts",
  tags,
  summary: "Roll a ready release out to a share of hosts and/or hosts with a label",
  description:
    "Hosts are chosen by a stable hash of their id, so raising `percent` only adds hosts. The " +
    "rollout halts itself when more than `max_failures` hosts, or more than " +
    "`max_failure_percent` % of the hosts it reaches, report a failed update. Starting a rollout " +
    "supersedes the active one.",
  request: { params: VersionParam, ...jsonBody(RolloutInput) },
  responses: { 201: jsonResponse(RolloutSchema, "Rollout started") },
});

const changeRollout = apiRoute("platform_admin", {
  method: "patch",
  path: "/api/v1/agent/rollouts/{id}",
  tags,
  summary: "Widen a rollout's share, halt it or resume it",
  request: {
    params: z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) }),
    ...jsonBody(z.object({
      percent: z.number().int().min(0).max(100).optional(),
      status: z.enum(["active", "halted"]).optional(),
    })),
  },
  responses: {
    200: jsonResponse(RolloutSchema, "Changed"),
    409: jsonResponse(z.any(), "Superseded"),
  },
});

const currentRelease = apiRoute("agent", {
  method: "get",
  path: "/api/v1/agent/releases/current",
  tags,
  summary: "The release this host should run under the active rollout (agents, host token)",
  request: { query: z.object({ arch: z.enum(["x86_64", "aarch64"]) }) },
  responses: { 200: jsonResponse(CurrentRelease, "The release, or null") },
});

const downloadFile = apiRoute("agent", {
  method: "get",
  path: "/api/v1/agent/releases/{version}/files/{name}",
  tags,
  summary: "Download a release file (agents, host token); check it against the signed manifest",
  request: { params: FileParams },
  responses: {
    200: {
      description: "The file",
      content: { "application/octet-stream": { schema: z.any().openapi({ format: "binary" }) } },
    },
  },
});

const reportOutcome = apiRoute("agent", {
  method: "post",
  path: "/api/v1/agent/releases/outcome",
  tags,
  summary: "An agent reports how an update went; failures count toward halting its rollout",
  request: jsonBody(OutcomeReport),
  responses: { 200: jsonResponse(z.object({ ok: z.literal(true) }), "Recorded") },
});

const requestUpdate = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/agent-update",
  tags,
  summary: "Ask the host's agent to check for an update now",
  description:
    "The agent answers at once and checks in the background: it updates only when the active " +
    "rollout reaches this host with a newer (or pinned) signed release.",
  request: {
    params: OrgParam.extend({
      hostId: z.string().min(1).max(64).openapi({ param: { name: "hostId", in: "path" } }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ accepted: z.boolean() }), "Asked"),
    409: jsonResponse(z.any(), "The agent does not update itself (bundle install or older agent)"),
    503: jsonResponse(z.any(), "The agent is not connected"),
  },
});

/** Streams a stored release file, or 404. */
async function sendFile(path: string, name: string, extra: Record<string, string> = {}) {
  let file;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw notFound(`file ${name}`);
    throw err;
  }
  const size = (await file.stat()).size;
  return new Response(file.readable, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(size),
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
      ...extra,
    },
  });
}

/**
 * Agent releases: platform admins upload signed releases and roll them out; agents (host token)
 * ask which release they should run, download it and report the outcome; the install script
 * downloads the generally available binary.
 */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listReleases, async (c) => {
    return c.json({ items: await c.var.services.releases.list() }, 200);
  });

  app.openapi(createRelease, async (c) => {
    const b = c.req.valid("json");
    const r = await c.var.services.releases.beginUpload(actionContext(c), {
      manifestText: b.manifest,
      signature: b.signature.trim(),
    });
    return c.json({ version: r.version, status: r.status }, 201);
  });

  app.openapi(uploadChunk, async (c) => {
    const { version, name } = c.req.valid("param");
    const { offset } = c.req.valid("query");
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0 || bytes.byteLength > MAX_CHUNK_BYTES) {
      throw new HttpError(400, "validation", `A chunk is 1 to ${MAX_CHUNK_BYTES} bytes`, {
        body: "chunk size",
      });
    }
    const r = await c.var.services.releases.uploadChunk(
      actionContext(c),
      version,
      name,
      offset,
      bytes,
    );
    return c.json(r, 200);
  });

  app.openapi(startRollout, async (c) => {
    const { version } = c.req.valid("param");
    const r = await c.var.services.releases.startRollout(
      actionContext(c),
      version,
      c.req.valid("json"),
    );
    return c.json(r, 201);
  });

  app.openapi(changeRollout, async (c) => {
    const r = await c.var.services.releases.changeRollout(
      actionContext(c),
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(r, 200);
  });

  app.openapi(currentRelease, async (c) => {
    const host = c.var.agentHost!;
    const release = await c.var.services.releases.currentFor(host, c.req.valid("query").arch);
    c.header("Cache-Control", "no-store");
    return c.json({ release }, 200);
  });

  app.openapi(downloadFile, async (c) => {
    const { version, name } = c.req.valid("param");
    // deno-lint-ignore no-explicit-any
    return await sendFile(c.var.services.releases.filePath(version, name), name) as any;
  });

  app.openapi(reportOutcome, async (c) => {
    await c.var.services.releases.recordOutcome(c.var.agentHost!, c.req.valid("json"));
    return c.json({ ok: true as const }, 200);
  });

  app.openapi(requestUpdate, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await requestAgentUpdate(
      c.var.services,
      actionContext(c),
      org.id,
      c.req.valid("param").hostId,
    );
    return c.json(r, 200);
  });

  // What the install script would download, as `key=value` lines sh can read without a JSON
  // parser; 404 when no release is rolled out to every host (the script then uses bundle.js).
  declare({
    method: "GET",
    path: "/api/v1/agent/releases/install/:arch/info",
    policy: "public",
    kind: "asset",
  });
  app.get("/api/v1/agent/releases/install/:arch/info", guard("public"), async (c) => {
    const arch = c.req.param("arch");
    if (arch !== "x86_64" && arch !== "aarch64") throw notFound("architecture");
    const r = await c.var.services.releases.forInstall(arch);
    if (!r) throw notFound("generally available agent release");
    c.header("Cache-Control", "no-store");
    return c.text(
      `version=${r.version}\nfile=${r.file.name}\nsha256=${r.file.sha256}\nsize=${r.file.size}\n`,
    );
  });

  // The install script's download: the binary of the release rolled out to every host (it
  // carries no secret and the script runs before the host has a token, like bundle.js).
  declare({
    method: "GET",
    path: "/api/v1/agent/releases/install/:arch",
    policy: "public",
    kind: "asset",
  });
  app.get("/api/v1/agent/releases/install/:arch", guard("public"), async (c) => {
    const arch = c.req.param("arch");
    if (arch !== "x86_64" && arch !== "aarch64") throw notFound("architecture");
    const { releases } = c.var.services;
    const r = await releases.forInstall(arch);
    if (!r) throw notFound("generally available agent release");
    return await sendFile(releases.filePath(r.version, r.file.name), r.file.name, {
      "x-capstan-agent-version": r.version,
      "x-capstan-agent-file": r.file.name,
      "x-capstan-agent-sha256": r.file.sha256,
    });
  });
}
