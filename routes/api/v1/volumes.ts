import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { createVolume, listVolumes, removeVolume } from "../../../lib/hosts/docker_actions.ts";
import {
  AGENT_ERRORS,
  HostParams,
  NO_CONTENT,
  QueryBool,
  VolumeParams,
  VolumeSchema,
} from "./docker_schemas.ts";
import { VolumeCreateInput } from "../../_schemas/docker.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/hosts/{hostId}/volumes";

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["volumes"],
  summary: "Volumes of a host with the containers using each",
  description: "`sizes=true` adds each volume's size (the engine walks the volumes: slower).",
  request: { params: HostParams, query: z.object({ sizes: QueryBool }) },
  responses: {
    200: jsonResponse(z.object({ items: z.array(VolumeSchema) }), "Volumes"),
    ...AGENT_ERRORS,
  },
});

const create = apiRoute("org:member", {
  method: "post",
  path: base,
  tags: ["volumes"],
  summary: "Create a named local volume",
  request: { params: HostParams, ...jsonBody(VolumeCreateInput) },
  responses: { 201: jsonResponse(z.object({ name: z.string() }), "Created"), ...AGENT_ERRORS },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{name}`,
  tags: ["volumes"],
  summary: "Remove a volume and its data",
  description: "409 naming the containers while any container (running or not) uses it.",
  request: { params: VolumeParams },
  responses: { 204: NO_CONTENT, ...AGENT_ERRORS },
});

/** Volume endpoints: list (viewer), create (member), remove (admin: it deletes data). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { hostId } = c.req.valid("param");
    const { sizes } = c.req.valid("query");
    return c.json(
      { items: await listVolumes(c.var.services, dockerCaller(c), hostId, sizes) },
      200,
    );
  });

  app.openapi(create, async (c) => {
    const { hostId } = c.req.valid("param");
    return c.json(
      await createVolume(c.var.services, dockerCaller(c), hostId, c.req.valid("json")),
      201,
    );
  });

  app.openapi(remove, async (c) => {
    const { hostId, name } = c.req.valid("param");
    await removeVolume(c.var.services, dockerCaller(c), hostId, name);
    return c.body(null, 204);
  });
}
