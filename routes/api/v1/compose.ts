/**
 * Compose import: a `docker-compose.yml` converted (every unsupported key with its line, before
 * anything runs), made into an app (members; ports published in host mode where the cluster has
 * no routing mesh) or saved as an organization template (admins).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf, principalOf } from "../../../lib/http/context.ts";
import { appCaller, templateCaller } from "../../../lib/http/callers.ts";
import { convertCompose } from "../../../lib/compose/convert.ts";
import { composeToTemplate } from "../../../lib/compose/to_template.ts";
import { portsForCluster } from "../../../lib/compose/cluster_ports.ts";
import { invalidFields } from "../../../lib/errors.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/compose";

const Source = {
  source: z.string().openapi({ description: "The docker-compose.yml (at most 256 KB)" }),
  profiles: z.array(z.string().max(64)).max(16).optional(),
};

const Where = z.object({
  path: z.string(),
  line: z.number().int(),
  column: z.number().int(),
  message: z.string(),
});

const Conversion = z.object({
  ok: z.boolean(),
  spec: z.record(z.string(), z.unknown()).nullable(),
  name: z.string().nullable().openapi({ description: "The file's own name, as a suggestion" }),
  problems: z.array(Where.extend({ kind: z.enum(["unsupported", "refused", "invalid"]) })),
  notes: z.array(Where),
}).openapi("ComposeConversion");

const ERRORS = {
  400: jsonResponse(z.any(), "The file cannot be converted (each problem named), or a bad name"),
  403: jsonResponse(z.any(), "Not allowed for this role"),
  409: jsonResponse(z.any(), "The name is taken"),
} as const;

const convert = apiRoute("org:member", {
  method: "post",
  path: `${base}/convert`,
  tags: ["templates"],
  summary: "Convert a Compose file: the app spec, or every problem with its line",
  request: { params: OrgParam, ...jsonBody(z.object(Source)) },
  responses: { 200: jsonResponse(Conversion, "The conversion") },
});

const importApp = apiRoute("org:member", {
  method: "post",
  path: `${base}/import`,
  tags: ["templates"],
  summary: "Make an app of a Compose file (and deploy it)",
  request: {
    params: OrgParam,
    ...jsonBody(z.object({ ...Source, name: z.string(), deploy: z.boolean().optional() })),
  },
  responses: {
    202: jsonResponse(
      z.object({ app: z.string(), deployment: z.number().int().nullable() }),
      "Made",
    ),
    ...ERRORS,
  },
});

const saveTemplate = apiRoute("org:admin", {
  method: "post",
  path: `${base}/template`,
  tags: ["templates"],
  summary: "Save a Compose file as an organization template",
  request: {
    params: OrgParam,
    ...jsonBody(z.object({ ...Source, id: z.string(), name: z.string() })),
  },
  responses: {
    201: jsonResponse(z.object({ id: z.string(), yaml: z.string() }), "Saved"),
    ...ERRORS,
  },
});

/** Converts, or answers 400 naming every problem (`source:<line>:<column>` → path: message). */
function converted(
  input: { source: string; profiles?: string[] },
  opts: { allowBinds: boolean; prefix: string },
) {
  const r = convertCompose(input.source, {
    profiles: input.profiles,
    allowBinds: opts.allowBinds,
    volumePrefix: opts.prefix,
  });
  if (!r.spec) {
    throw invalidFields(
      Object.fromEntries(
        r.problems.map((p) => [`source:${p.line}:${p.column}`, `${p.path}: ${p.message}`]),
      ),
    );
  }
  return r.spec;
}

/** Compose endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(convert, (c) => {
    const body = c.req.valid("json");
    const r = convertCompose(body.source, {
      profiles: body.profiles,
      allowBinds: ["owner", "admin"].includes(orgScopeOf(c).role),
    });
    return c.json({
      ok: Boolean(r.spec),
      spec: (r.spec ?? null) as Record<string, unknown> | null,
      name: r.name ?? null,
      problems: r.problems,
      notes: r.notes,
    }, 200);
  });

  app.openapi(importApp, async (c) => {
    const body = c.req.valid("json");
    const { org, role } = orgScopeOf(c);
    const spec = await portsForCluster(
      c.var.services.cluster,
      converted(body, { allowBinds: ["owner", "admin"].includes(role), prefix: body.name }),
    );
    const r = await c.var.services.apps.create(appCaller(c), org.id, {
      name: body.name,
      spec,
      deploy: body.deploy !== false,
    });
    return c.json({ app: r.app.name, deployment: r.deployment?.number ?? null }, 202);
  });

  app.openapi(saveTemplate, async (c) => {
    const body = c.req.valid("json");
    const spec = converted(body, { allowBinds: principalOf(c).isAdmin, prefix: "compose" });
    const yaml = composeToTemplate(spec, { id: body.id, name: body.name, volumePrefix: "compose" });
    const t = await c.var.services.templates.save(templateCaller(c), yaml);
    return c.json({ id: t.template_id, yaml }, 201);
  });
}
