import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { createNetwork, listNetworks, removeNetwork } from "../../../lib/hosts/docker_actions.ts";
import {
  AGENT_ERRORS,
  HostParams,
  NetworkParams,
  NetworkSchema,
  NO_CONTENT,
} from "./docker_schemas.ts";
import { NetworkCreateInput } from "../../_schemas/docker.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/hosts/{hostId}/networks";

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["networks"],
  summary: "Networks of a host with their attached containers",
  request: { params: HostParams },
  responses: {
    200: jsonResponse(z.object({ items: z.array(NetworkSchema) }), "Networks"),
    ...AGENT_ERRORS,
  },
});

const create = apiRoute("org:member", {
  method: "post",
  path: base,
  tags: ["networks"],
  summary: "Create a network (bridge, overlay, or macvlan for admins)",
  description: "macvlan needs `parent` (a host interface) and the admin role; overlay needs " +
    "the host to be a Swarm manager.",
  request: { params: HostParams, ...jsonBody(NetworkCreateInput) },
  responses: { 201: jsonResponse(z.object({ id: z.string() }), "Created"), ...AGENT_ERRORS },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["networks"],
  summary: "Remove a network",
  description: "bridge, host, none, docker_gwbridge and ingress are protected (409), as is a " +
    "network with containers attached.",
  request: { params: NetworkParams },
  responses: { 204: NO_CONTENT, ...AGENT_ERRORS },
});

/** Network endpoints: list (viewer), create (member; macvlan admin), remove (admin). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { hostId } = c.req.valid("param");
    return c.json({ items: await listNetworks(c.var.services, dockerCaller(c), hostId) }, 200);
  });

  app.openapi(create, async (c) => {
    const { hostId } = c.req.valid("param");
    const r = await createNetwork(c.var.services, dockerCaller(c), hostId, c.req.valid("json"));
    return c.json({ id: r.id }, 201);
  });

  app.openapi(remove, async (c) => {
    const { hostId, id } = c.req.valid("param");
    await removeNetwork(c.var.services, dockerCaller(c), hostId, id);
    return c.body(null, 204);
  });
}
