/**
 * The Swarm cluster (platform admins): create it on a host's engine (or adopt the swarm it already
 * manages), join hosts as workers or managers (the join token goes from agent to agent through the
 * hub, never to the caller), node availability (a drain moves tasks first), roles, labels, leave.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv } from "../../../lib/http/context.ts";
import { HostId } from "../../_schemas/docker.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";

const HostParam = z.object({
  hostId: HostId.openapi({ param: { name: "hostId", in: "path" } }),
});

const ClusterSchema = z.object({
  swarm_id: z.string(),
  manager_host_id: z.string().nullable(),
  advertise_addr: z.string(),
  routing_mesh: z.boolean().openapi({
    description: "Whether the manager's kernel has IPVS: ingress ports and VIPs need it",
  }),
  encrypted_networks: z.boolean(),
  adopted: z.boolean(),
  created_at: z.number().int(),
}).openapi("Cluster");

const NodeSchema = z.object({
  node_id: z.string(),
  host_id: z.string().nullable(),
  hostname: z.string(),
  role: z.string(),
  availability: z.string(),
  state: z.string(),
  addr: z.string(),
  leader: z.boolean(),
  reachability: z.string().nullable(),
  engine_version: z.string(),
  cpus: z.number(),
  memory_bytes: z.number(),
  reserved_cpus: z.number(),
  reserved_memory_bytes: z.number(),
  tasks: z.number().int(),
  labels: z.record(z.string(), z.string()),
}).openapi("ClusterNode");

const ERRORS = {
  400: jsonResponse(z.any(), "A bad value, the field named"),
  409: jsonResponse(z.any(), "A cluster exists already, or the host is (not) in it"),
  503: jsonResponse(z.any(), "No cluster yet, or the host's agent is not connected"),
} as const;

const get = apiRoute("platform_admin", {
  method: "get",
  path: "/api/v1/cluster",
  tags: ["cluster"],
  summary: "The cluster and its nodes (null before one is created)",
  responses: {
    200: jsonResponse(
      z.object({ cluster: ClusterSchema.nullable(), nodes: z.array(NodeSchema) }),
      "The cluster",
    ),
  },
});

const create = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/cluster",
  tags: ["cluster"],
  summary: "Create the cluster on a host's engine (swarm init), or adopt its swarm",
  description:
    "An engine that is already a swarm manager is adopted only with `adopt: true` (409 otherwise).",
  request: {
    ...jsonBody(z.object({
      host_id: HostId,
      advertise_addr: z.string().min(1).max(255).openapi({ example: "10.0.0.5" }),
      adopt: z.boolean().default(false),
    })),
  },
  responses: { 201: jsonResponse(ClusterSchema, "Created"), ...ERRORS },
});

const join = apiRoute("platform_admin", {
  method: "post",
  path: "/api/v1/cluster/nodes",
  tags: ["cluster"],
  summary: "Join a host's engine to the cluster",
  request: {
    ...jsonBody(z.object({
      host_id: HostId,
      role: z.enum(["worker", "manager"]).default("worker"),
      advertise_addr: z.string().min(1).max(255).optional(),
    })),
  },
  responses: { 201: jsonResponse(z.object({ node_id: z.string() }), "Joined"), ...ERRORS },
});

const change = apiRoute("platform_admin", {
  method: "patch",
  path: "/api/v1/cluster/nodes/{hostId}",
  tags: ["cluster"],
  summary: "Change a node's availability, role or labels",
  description:
    "`availability: drain` first starts replacements of the node's tasks elsewhere and waits for " +
    "them, so a service never runs fewer replicas than before.",
  request: {
    params: HostParam,
    ...jsonBody(z.object({
      availability: z.enum(["active", "pause", "drain"]).optional(),
      role: z.enum(["worker", "manager"]).optional(),
      labels: z.record(z.string().max(128), z.string().max(256)).optional(),
    })),
  },
  responses: {
    200: jsonResponse(z.object({ moved: z.number().int().optional() }), "Done"),
    ...ERRORS,
  },
});

const leave = apiRoute("platform_admin", {
  method: "delete",
  path: "/api/v1/cluster/nodes/{hostId}",
  tags: ["cluster"],
  summary: "Drain a host's node, then take it out of the cluster",
  request: { params: HostParam },
  responses: { 204: { description: "Left" }, ...ERRORS },
});

/** Cluster endpoints, all for platform admins. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(get, async (c) => {
    const { cluster } = c.var.services;
    const info = await cluster.info();
    return c.json({ cluster: info ?? null, nodes: info ? await cluster.nodes() : [] }, 200);
  });

  app.openapi(create, async (c) => {
    const b = c.req.valid("json");
    const view = await c.var.services.cluster.create(actionContext(c), {
      hostId: b.host_id,
      advertiseAddr: b.advertise_addr,
      adopt: b.adopt,
    });
    return c.json(view, 201);
  });

  app.openapi(join, async (c) => {
    const b = c.req.valid("json");
    const r = await c.var.services.cluster.join(actionContext(c), b.host_id, {
      role: b.role,
      advertiseAddr: b.advertise_addr,
    });
    return c.json(r, 201);
  });

  app.openapi(change, async (c) => {
    const { hostId } = c.req.valid("param");
    const b = c.req.valid("json");
    const { cluster } = c.var.services;
    const ctx = actionContext(c);
    let moved: number | undefined;
    if (b.role) await cluster.setRole(ctx, hostId, b.role);
    if (b.labels) await cluster.setLabels(ctx, hostId, b.labels);
    if (b.availability) moved = (await cluster.setAvailability(ctx, hostId, b.availability)).moved;
    return c.json(moved === undefined ? {} : { moved }, 200);
  });

  app.openapi(leave, async (c) => {
    await c.var.services.cluster.leave(actionContext(c), c.req.valid("param").hostId);
    return c.body(null, 204);
  });
}
