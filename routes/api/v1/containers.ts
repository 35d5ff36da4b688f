import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../lib/http/context.ts";
import { HttpError, validationError } from "../../../lib/http/errors.ts";
import { ContainerCreateSpec, SignalName } from "../../../lib/protocol/ops.ts";
import {
  CONTAINER_STATES,
  listCachedContainers,
  parseLabelFilter,
} from "../../../lib/hosts/container_list.ts";
import { findCachedContainer } from "../../../lib/hosts/container_ref.ts";
import {
  CONTAINER_ACTIONS,
  containerAction,
  createContainer,
  inspectContainer,
  removeContainer,
} from "../../../lib/hosts/docker_actions.ts";
import {
  AGENT_ERRORS,
  ContainerParams,
  ContainerSchema,
  dockerCaller,
  HostId,
  HostParams,
  NO_CONTENT,
  QueryBool,
} from "./docker_schemas.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

/** Filters of the cross-host container list, shared by the API and the containers page. */
export const ContainerListQuery = z.object({
  host: HostId.optional(),
  state: z.enum(CONTAINER_STATES).optional(),
  q: z.string().trim().max(200).optional().openapi({
    description: "Case-insensitive substring of the name or image",
  }),
  label: z.string().max(1200).optional().transform((v, ctx) => {
    if (v === undefined || v === "") return undefined;
    const parsed = parseLabelFilter(v);
    if (!parsed) {
      ctx.addIssue({ code: "custom", message: "must be key or key=value" });
      return z.NEVER;
    }
    return parsed;
  }).openapi({ type: "string", description: "`key` (present) or `key=value`" }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

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

/** What removing a container does with its health checks. */
export const CHECKS_ON_REMOVE = ["pause", "delete"] as const;

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

/**
 * Removes a container, then pauses or deletes its health checks as asked (the API and the remove
 * page). Nothing happens to the checks when the removal fails.
 */
export async function removeWithChecks(
  c: AppContext,
  hostId: string,
  ref: string,
  opts: { force: boolean; volumes: boolean; checks: (typeof CHECKS_ON_REMOVE)[number] },
): Promise<void> {
  const { org } = orgScopeOf(c);
  const { db, health } = c.var.services;
  const cached = await findCachedContainer(db, org.id, hostId, ref);
  await removeContainer(c.var.services, dockerCaller(c), hostId, ref, {
    force: opts.force,
    volumes: opts.volumes,
  });
  // Unknown to the cache, its checks are marked gone when the engine's destroy event arrives.
  if (cached) {
    await health.service.containerRemoved(actionContext(c), org.id, hostId, cached, opts.checks);
  }
}

/** Container endpoints: list across hosts (viewer), inspect (viewer), create and lifecycle (member). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { org } = orgScopeOf(c);
    const q = c.req.valid("query");
    const { db, dbh, clock } = c.var.services;
    const page = await listCachedContainers(db, dbh.dialect, org.id, {
      hostId: q.host,
      state: q.state,
      q: q.q || undefined,
      label: q.label,
      limit: q.limit,
      offset: q.offset,
    }, clock.now());
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
    await removeWithChecks(c, hostId, id, q);
    return c.body(null, 204);
  });
}
