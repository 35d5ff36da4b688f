import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { HostLabels, HostName } from "../../../lib/hosts/schema.ts";
import { hostDetail, hostView } from "../../../lib/hosts/view.ts";
import { hubUrlOf, installCommand } from "../../../lib/agents/install_script.ts";
import { addHost, removeHostNow, rotateHostToken } from "../../../lib/hosts/use_cases.ts";

const HostParams = OrgParam.extend({
  hostId: z.string().min(1).max(64).openapi({ param: { name: "hostId", in: "path" } }),
});

const HostSchema = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  local: z.boolean().openapi({ description: "The hub's embedded agent (its own Docker engine)" }),
  status: z.enum(["online", "offline"]),
  enrolled: z.boolean(),
  created_at: z.number().int(),
  enrolled_at: z.number().int().nullable(),
  last_seen_at: z.number().int().nullable(),
  agent_version: z.string().nullable(),
  hostname: z.string().nullable(),
  docker_version: z.string().nullable(),
  os: z.string().nullable(),
  kernel: z.string().nullable(),
  arch: z.string().nullable(),
  cpus: z.number().int().nullable(),
  memory_bytes: z.number().nullable(),
  containers_running: z.number().int().nullable(),
  containers_total: z.number().int().nullable(),
  restic_version: z.string().nullable().openapi({
    description:
      "restic on the host (volume snapshots need ≥ 0.14); null: not installed, or not reported yet",
  }),
}).openapi("Host");

const HostDetailSchema = HostSchema.extend({
  machine_id: z.string().nullable(),
  engine: z.record(z.string(), z.unknown()).openapi({
    description: "Engine facts from the agent's last hello (Docker /info and /version)",
  }),
}).openapi("HostDetail");

const EnrollmentSchema = z.object({
  token: z.string().openapi({ description: "Single-use enrollment token; shown only here" }),
  expires_at: z.number().int(),
  install_command: z.string(),
}).openapi("HostEnrollment");

const CreateHostInput = z.object({ name: HostName, labels: HostLabels.optional() });

const listHosts = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/hosts",
  tags: ["hosts"],
  summary: "Hosts of an organization with their agent status and facts",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(HostSchema) }), "Hosts") },
});

const getHost = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/hosts/{hostId}",
  tags: ["hosts"],
  summary: "One host with its engine facts",
  request: { params: HostParams },
  responses: { 200: jsonResponse(HostDetailSchema, "Host") },
});

const createHost = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/hosts",
  tags: ["hosts"],
  summary: "Add a host: returns a single-use enrollment token (valid 1 h) and the install command",
  request: { params: OrgParam, ...jsonBody(CreateHostInput) },
  responses: {
    201: jsonResponse(z.object({ host: HostSchema, enrollment: EnrollmentSchema }), "Added"),
    409: jsonResponse(z.any(), "Name already in use"),
  },
});

const newEnrollment = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/enrollment",
  tags: ["hosts"],
  summary:
    "A new enrollment token for a host whose agent has not enrolled yet (the old one stops working)",
  request: { params: HostParams },
  responses: {
    201: jsonResponse(EnrollmentSchema, "Issued"),
    409: jsonResponse(z.any(), "Already enrolled"),
  },
});

const updateHost = apiRoute("org:admin", {
  method: "patch",
  path: "/api/v1/orgs/{org}/hosts/{hostId}",
  tags: ["hosts"],
  summary: "Rename a host or replace its labels",
  request: {
    params: HostParams,
    ...jsonBody(z.object({ name: HostName.optional(), labels: HostLabels.optional() })),
  },
  responses: {
    200: jsonResponse(HostSchema, "Updated"),
    409: jsonResponse(z.any(), "Name already in use"),
  },
});

const rotateToken = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/rotate-token",
  tags: ["hosts"],
  summary: "Replace the host token; the old one stops working at once",
  description:
    "When the agent is connected, the new token is handed to it over its connection: it rewrites " +
    "its token file and reconnects (`delivered: true`). Otherwise write `host_token` to the " +
    "agent's token file (`/var/lib/capstan-agent/host-token`, mode 0600) and restart it.",
  request: { params: HostParams },
  responses: {
    200: jsonResponse(
      z.object({ host_token: z.string(), delivered: z.boolean() }),
      "Rotated; the token is shown only here",
    ),
    409: jsonResponse(z.any(), "The embedded agent's host has no token"),
  },
});

const removeHost = apiRoute("org:admin", {
  method: "delete",
  path: "/api/v1/orgs/{org}/hosts/{hostId}",
  tags: ["hosts"],
  summary: "Remove a host; its token stops working at once and its agent is disconnected",
  request: {
    params: HostParams,
    query: z.object({
      keep_history: z.enum(["true", "false"]).default("true").openapi({
        description: "Keep the host's history (audit, metrics) hidden, or delete it",
      }),
    }),
  },
  responses: { 204: { description: "Removed" } },
});

/** Host endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listHosts, async (c) => {
    const { org } = orgScopeOf(c);
    const { hosts, agents } = c.var.services;
    const items = (await hosts.list(org.id)).map((h) => hostView(h, agents.isOnline(h.id)));
    return c.json({ items }, 200);
  });

  app.openapi(getHost, async (c) => {
    const { org } = orgScopeOf(c);
    const { hosts, agents } = c.var.services;
    const h = await hosts.get(org.id, c.req.valid("param").hostId);
    return c.json(hostDetail(h, agents.isOnline(h.id)), 200);
  });

  app.openapi(createHost, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await addHost(
      c.var.services,
      actionContext(c),
      org.id,
      c.req.valid("json"),
      hubUrlOf(c),
    );
    c.header("Cache-Control", "no-store");
    const e = r.enrollment;
    return c.json({
      host: hostView(r.host, false),
      enrollment: { token: e.token, expires_at: e.expiresAt, install_command: e.installCommand },
    }, 201);
  });

  app.openapi(newEnrollment, async (c) => {
    const { org } = orgScopeOf(c);
    const e = await c.var.services.hosts.newEnrollment(
      actionContext(c),
      org.id,
      c.req.valid("param").hostId,
    );
    c.header("Cache-Control", "no-store");
    return c.json({
      token: e.token,
      expires_at: e.expiresAt,
      install_command: installCommand(hubUrlOf(c), e.token),
    }, 201);
  });

  app.openapi(updateHost, async (c) => {
    const { org } = orgScopeOf(c);
    const { hosts, agents } = c.var.services;
    const { hostId } = c.req.valid("param");
    const body = c.req.valid("json");
    let h = await hosts.get(org.id, hostId);
    if (body.name !== undefined && body.name !== h.name) {
      h = await hosts.rename(actionContext(c), org.id, hostId, body.name);
    }
    if (body.labels !== undefined) {
      h = await hosts.setLabels(actionContext(c), org.id, hostId, body.labels);
    }
    return c.json(hostView(h, agents.isOnline(h.id)), 200);
  });

  app.openapi(rotateToken, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await rotateHostToken(
      c.var.services,
      actionContext(c),
      org.id,
      c.req.valid("param").hostId,
    );
    c.header("Cache-Control", "no-store");
    return c.json(r, 200);
  });

  app.openapi(removeHost, async (c) => {
    const { org } = orgScopeOf(c);
    await removeHostNow(
      c.var.services,
      actionContext(c),
      org.id,
      c.req.valid("param").hostId,
      c.req.valid("query").keep_history === "true",
    );
    return c.body(null, 204);
  });
}
