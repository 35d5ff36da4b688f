/**
 * The topology map's graph (lib/topology, TOPOLOGY.md): routes → apps → services →
 * tasks/containers → hosts, volumes and backup targets, with statuses, replicas, health and
 * backup badges. Members of an organization (viewers and up) read theirs with `?org=<slug>` (a
 * token: its own organization, with or without `org`); platform admins signed in with a session
 * may leave `org` out for the whole install. Updates then arrive as patches on the realtime topic
 * the answer's `topic` names.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { jsonResponse, slugSchema } from "./schemas.ts";
import { scopeTopic, type TopologyScope } from "../../../lib/topology/topics.ts";

const Status = z.enum(["running", "degraded", "down", "unknown"]);

const NodeSchema = z.object({
  id: z.string().openapi({ example: "host:0190…" }),
  kind: z.enum(["route", "app", "service", "task", "host", "volume", "target"]),
  rank: z.enum(["ingress", "apps", "hosts", "storage"]),
  label: z.string(),
  href: z.string().nullable(),
  status: Status,
  metricsTopic: z.string().optional().openapi({
    description: "Realtime topic whose samples feed the CPU/memory bars (hosts: the fleet topic)",
  }),
  replicas: z.object({ running: z.number().int(), desired: z.number().int() }).optional(),
  health: z.enum(["passing", "failing", "unknown", "none"]).optional(),
  backup: z.object({
    state: z.enum(["fresh", "stale", "failed", "none"]),
    lastAt: z.number().int().nullable(),
  }).optional(),
  detail: z.record(z.string(), z.string()).optional(),
}).openapi("TopologyNode");

const EdgeSchema = z.object({
  id: z.string(),
  kind: z.enum(["routes_to", "runs_on", "mounts", "backs_up_to", "has"]),
  from: z.string(),
  to: z.string(),
}).openapi("TopologyEdge");

const GraphSchema = z.object({
  at: z.number().int(),
  version: z.number().int().openapi({
    description: "The topic's patches continue from this version (see TOPOLOGY.md)",
  }),
  nodes: z.array(NodeSchema),
  edges: z.array(EdgeSchema),
  truncated: z.boolean(),
  topic: z.string().openapi({
    description: "The realtime topic of this graph's patches: org:<orgId>:topology or " +
      "org:install:topology",
  }),
}).openapi("TopologyGraph");

// Strict: a misspelt parameter is refused with a 400 naming it (under `_`, as every strict
// schema's unknown fields are) rather than silently ignored.
const Query = z.object({
  org: slugSchema.optional().openapi({
    param: { name: "org", in: "query" },
    description: "The organization's slug; platform admins may leave it out for the whole install",
    example: "acme",
  }),
}).strict();

const get = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/topology",
  tags: ["topology"],
  summary: "The topology graph of an organization (platform admins: of the whole install)",
  request: { query: Query },
  responses: { 200: jsonResponse(GraphSchema, "The graph, and the topic of its patches") },
}, { installForAdmins: true });

export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(get, async (c) => {
    c.req.valid("query");
    // The guard resolved the organization (or, for an admin's session without one, none).
    const org = c.get("orgScope")?.org;
    const scope: TopologyScope = org ? { kind: "org", orgId: org.id } : { kind: "install" };
    const graph = await c.var.services.topology.graph(scope);
    return c.json({ ...graph, topic: scopeTopic(scope) as string }, 200);
  });
}
