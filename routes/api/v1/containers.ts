import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { HttpError, validationError } from "../../../lib/http/errors.ts";
import { ContainerCreateSpec, SignalName } from "../../../lib/protocol/ops.ts";
import {
  CONTAINER_ACTIONS,
  containerAction,
  createContainer,
  inspectContainer,
} from "../../../lib/hosts/docker_actions.ts";
import {
  CHECKS_ON_REMOVE,
  listContainers,
  removeContainerWithChecks,
} from "../../../lib/hosts/container_use_cases.ts";
import { ContainerListQuery } from "../../_schemas/docker.ts";
import {
  AGENT_ERRORS,
  ContainerParams,
  ContainerSchema,
  HostParams,
  NO_CONTENT,
  QueryBool,
} from "./docker_schemas.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

/** Body of a container create: the spec and whether to start it at once. */
export const ContainerCreateInput = ContainerCreateSpec.extend({
  start: z.boolean().default(false),
});

const list = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/containers",
  tags: ["containers"],
  summary: "Containers of every host of the organization",
  description: "Served from the hub's cache, which agents keep current with snapshots and " +
    "Docker events; sorted by host, then name. Offline hosts show what they last reported.",
  request: { params: OrgParam, query: ContainerListQuery },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(ContainerSchema),
        total: z.number().int(),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
      "A page of containers",
    ),
  },
});

const inspect = apiRoute("org:viewer", {
  method: "get",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}",
  tags: ["containers"],
  summary: "Inspect a container (live, through the host's agent)",
  description: "Docker's inspect document. Environment values are hidden from viewers.",
  request: { params: ContainerParams },
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "Inspect"), ...AGENT_ERRORS },
});

const create = apiRoute("org:member", {
  method: "post",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/containers",
  tags: ["containers"],
  summary: "Create a container (and start it with start=true)",
  description: "Members may create plain containers. `privileged`, `network_mode: host`, " +
    "`pid_mode`, `devices`, `cap_add` and `binds` reach outside the container and need the " +
    "admin role (403 naming the field otherwise).",
  request: { params: HostParams, ...jsonBody(ContainerCreateInput) },
  responses: {
    201: jsonResponse(
      z.object({ id: z.string(), warnings: z.array(z.string()).optional() }),
      "Created",
    ),
    ...AGENT_ERRORS,
  },
});

const ActionBody = z.object({
  timeout_s: z.number().int().min(0).max(600).optional().openapi({
    description: "stop/restart: seconds before SIGKILL",
  }),
  signal: SignalName.optional().describe("kill: the signal (default SIGKILL)"),
});

const actions = CONTAINER_ACTIONS.map((action) => ({
  action,
  route: apiRoute("org:member", {
    method: "post",
    path: `/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}/${action}`,
    tags: ["containers"],
    summary: `${action[0].toUpperCase()}${action.slice(1)} a container`,
    request: {
      params: ContainerParams,
      body: { content: { "application/json": { schema: ActionBody } }, required: false },
    },
    responses: { 204: NO_CONTENT, ...AGENT_ERRORS },
  }),
}));

const remove = apiRoute("org:member", {
  method: "delete",
  path: "/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}",
  tags: ["containers"],
  summary: "Remove a container",
  description: "`force` kills it first if running; `volumes` also removes its anonymous volumes. " +
    "`checks` says what happens to the container's health checks (those added by hand; checks " +
    "declared by its labels go with it): `pause` (default) keeps them with their history, " +
    "disabled, to enable again if a container of that name comes back; `delete` deletes them " +
    "and their history.",
  request: {
    params: ContainerParams,
    query: z.object({
      force: QueryBool,
      volumes: QueryBool,
      checks: z.enum(CHECKS_ON_REMOVE).default("pause"),
    }),
  },
  responses: { 204: NO_CONTENT, ...AGENT_ERRORS },
});

/** Container endpoints: list across hosts (viewer), inspect (viewer), create and lifecycle (member). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    const page = await listContainers(c.var.services, org.id, {
      hostId: q.host,
      state: q.state,
      q: q.q || undefined,
      label: q.label,
      limit: q.limit,
      offset: q.offset,
    });
    return c.json({ ...page, limit: q.limit, offset: q.offset }, 200);
  });

  app.openapi(inspect, async (c) => {
    const { hostId, id } = c.req.valid("param");
    const data = await inspectContainer(c.var.services, dockerCaller(c), hostId, id);
    return c.json(data as unknown as Record<string, unknown>, 200);
  });

  app.openapi(create, async (c) => {
    const { hostId } = c.req.valid("param");
    const { start, ...spec } = c.req.valid("json");
    const r = await createContainer(c.var.services, dockerCaller(c), hostId, spec, start);
    return c.json(r, 201);
  });

  for (const { action, route } of actions) {
    app.openapi(route, async (c) => {
      const { hostId, id } = c.req.valid("param");
      // The body is optional: a bare POST starts, stops, restarts or kills with defaults.
      const text = c.req.header("content-type")?.includes("json") ? await c.req.text() : "";
      let raw: unknown = {};
      try {
        raw = text.trim() ? JSON.parse(text) : {};
      } catch {
        throw new HttpError(400, "bad_request", "The body is not valid JSON");
      }
      const parsed = ActionBody.safeParse(raw ?? {});
      if (!parsed.success) throw validationError(parsed.error);
      await containerAction(c.var.services, dockerCaller(c), hostId, id, action, parsed.data);
      return c.body(null, 204);
    });
  }

  app.openapi(remove, async (c) => {
    const { hostId, id } = c.req.valid("param");
    const q = c.req.valid("query");
    await removeContainerWithChecks(c.var.services, dockerCaller(c), hostId, id, q);
    return c.body(null, 204);
  });
}
