/**
 * Apps on the cluster: list, create (and deploy), read, change the spec, delete; deploy, start,
 * stop, restart, scale, roll back; deployments with their diff, status (services, tasks, nodes),
 * the timeline and service logs. Long work answers 202 with the deployment; its progress arrives
 * on `org:<id>:app.<appId>`. The spec is validated by the apps service: a bad one is a 400 naming
 * each field (`spec.services.0.resources.limits.memory_bytes`).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { appCaller } from "../../../lib/http/callers.ts";
import { Invalid } from "../../../lib/errors.ts";
import type { App, Deployment } from "../../../lib/apps/store.ts";
import type { AppSpecInput } from "../../../lib/apps/spec.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { sseEvent, sseResponse } from "../../../lib/http/sse.ts";
import type { AppLogLine } from "../../../lib/apps/service_logs.ts";

const base = "/api/v1/orgs/{org}/apps";

/** An app of the organization, by name or id. */
export const AppParams = OrgParam.extend({
  app: z.string().min(1).max(63).openapi({
    param: { name: "app", in: "path" },
    description: "The app's name or id",
    example: "shop",
  }),
});
const DeploymentParams = AppParams.extend({
  n: z.string().regex(/^\d{1,9}$|^[0-9a-f-]{36}$/).openapi({
    param: { name: "n", in: "path" },
    description: "The deployment's number in its app (or its id)",
  }),
});

const ServiceParams = AppParams.extend({
  service: z.string().min(1).max(63).openapi({ param: { name: "service", in: "path" } }),
});

const Spec = z.record(z.string(), z.unknown()).openapi("AppSpec", {
  description:
    "The app's services: `{ services: [{ name, image, command?, env?, ports?, volumes?, replicas?, " +
    "mode?, resources?, healthcheck?, restart?, placement?, update?, labels?, depends_on? }] }`. " +
    "Checked as a whole: every problem answers 400 naming its field.",
  example: {
    services: [{
      name: "web",
      image: "capstan-test/busybox:latest",
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
      replicas: 2,
      ports: [{ target: 8080, published: 18080, mode: "host" }],
    }],
  },
});
const MigrationPolicy = z.enum(["automatic", "manual", "none"]).openapi({
  description: "automatic: Swarm places tasks and moves them off a failed node. manual: each " +
    "service is pinned to its node (`node.id==…`) and moves only by `POST …/move`. none: pinned " +
    "too, never moved; when its node goes down the service is down until the node returns.",
});

const DeploymentSchema = z.object({
  id: z.string(),
  number: z.number().int(),
  status: z.enum(["pending", "deploying", "running", "failed", "rolled_back", "superseded"]),
  reason: z.string().nullable(),
  trigger: z.object({
    kind: z.string(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    from: z.string().optional(),
    secret: z.string().optional().openapi({ description: "A rotation: the rotated secret" }),
    version: z.number().int().optional(),
    mode: z.enum(["rolling", "restart"]).optional(),
    build: z.object({
      id: z.string(),
      number: z.number().int(),
      service: z.string(),
      commit: z.string().nullable(),
      branch: z.string(),
    }).optional().openapi({ description: "A build: the build, its service and commit" }),
  }),
  images: z.record(z.string(), z.string()),
  secrets: z.record(z.string(), z.object({ id: z.string(), version: z.number().int() }))
    .openapi({ description: "Secret name → the version this deployment gave its services" }),
  pins: z.record(z.string(), z.string()).openapi({
    description: "Service name → the Swarm node id it is pinned to (manual and none policies)",
  }),
  spec: Spec,
  created_at: z.number().int(),
  started_at: z.number().int().nullable(),
  finished_at: z.number().int().nullable(),
}).openapi("Deployment");

const Priority = z.number().int().min(-1000).max(1000).openapi({
  description: "Higher = more important, -1000…1000 (default 0)",
});

const AppSchema = z.object({
  id: z.string(),
  name: z.string(),
  spec: Spec,
  migration_policy: MigrationPolicy,
  desired_state: z.enum(["running", "stopped"]),
  priority: z.number().int().openapi({
    description: "Higher = more important (default 0); a quota violation's " +
      "stop_lowest_priority action stops the lowest first (ties: newest first)",
  }),
  current_deployment_id: z.string().nullable(),
  latest_deployment: DeploymentSchema.nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("App");

const Accepted = z.object({ deployment: DeploymentSchema });
const ERRORS = {
  400: jsonResponse(z.any(), "A bad spec or value, each field named"),
  403: jsonResponse(z.any(), "The organization's policy does not allow a field for this role"),
  404: jsonResponse(z.any(), "No such app (or deployment)"),
  409: jsonResponse(
    z.any(),
    "A deployment of this app is already in progress, or the name is taken",
  ),
  503: jsonResponse(z.any(), "There is no cluster yet, or its manager's agent is not connected"),
  507: jsonResponse(z.any(), "No node has the CPU or memory a service reserves"),
} as const;

function deploymentView(d: Deployment) {
  return {
    id: d.id,
    number: d.number,
    status: d.status,
    reason: d.reason,
    trigger: d.trigger,
    images: d.images,
    pins: d.pins,
    secrets: d.secrets,
    spec: d.spec as unknown as Record<string, unknown>,
    created_at: d.created_at,
    started_at: d.started_at,
    finished_at: d.finished_at,
  };
}

async function appView(c: AppContext, app: App) {
  const [latest] = await c.var.services.apps.store.deployments(app, { limit: 1 });
  return {
    id: app.id,
    name: app.name,
    spec: app.spec as unknown as Record<string, unknown>,
    migration_policy: app.migration_policy,
    desired_state: app.desired_state,
    priority: app.priority,
    current_deployment_id: app.current_deployment_id,
    latest_deployment: latest ? deploymentView(latest) : null,
    created_at: app.created_at,
    updated_at: app.updated_at,
  };
}

/** The app named in the path, in the caller's organization (404 otherwise). */
export function appOf(c: AppContext, ref: string): Promise<App> {
  return c.var.services.apps.store.get(orgScopeOf(c).org.id, ref);
}

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["apps"],
  summary: "Apps of the organization, by name",
  request: {
    params: OrgParam,
    query: z.object({
      search: z.string().max(63).optional(),
      status: z.enum(["running", "stopped"]).optional().openapi({
        description: "The desired state",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(AppSchema), total: z.number().int() }), "Apps"),
  },
});

const create = apiRoute("org:member", {
  method: "post",
  path: base,
  tags: ["apps"],
  summary: "Create an app and deploy it",
  description:
    "202 with the first deployment, whose progress arrives on `org:<id>:app.<appId>`; with " +
    "`deploy: false` the app is only saved (201). Published ports must be free across apps.",
  request: {
    params: OrgParam,
    ...jsonBody(z.object({
      name: z.string().openapi({ example: "shop" }),
      spec: Spec,
      migration_policy: MigrationPolicy.optional(),
      priority: Priority.optional(),
      deploy: z.boolean().default(true),
    })),
  },
  responses: {
    201: jsonResponse(z.object({ app: AppSchema, deployment: z.null() }), "Saved, not deployed"),
    202: jsonResponse(z.object({ app: AppSchema, deployment: DeploymentSchema }), "Deploying"),
    ...ERRORS,
  },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}`,
  tags: ["apps"],
  summary: "One app with its latest deployment",
  request: { params: AppParams },
  responses: { 200: jsonResponse(AppSchema, "The app"), 404: ERRORS[404] },
});

const update = apiRoute("org:member", {
  method: "patch",
  path: `${base}/{app}`,
  tags: ["apps"],
  summary: "Change the spec, the migration policy or the priority",
  description: "Saved, not deployed: deploy it with `POST …/deploy` (a new deployment).",
  request: {
    params: AppParams,
    ...jsonBody(z.object({
      spec: Spec.optional(),
      migration_policy: MigrationPolicy.optional(),
      priority: Priority.optional(),
    })),
  },
  responses: { 200: jsonResponse(AppSchema, "Saved"), ...ERRORS },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{app}`,
  tags: ["apps"],
  summary: "Delete an app: its services and networks (volumes only when asked)",
  description: "`confirm` must be the app's name: a delete cannot be undone.",
  request: {
    params: AppParams,
    query: z.object({
      confirm: z.string().max(63),
      volumes: z.enum(["true", "false"]).default("false"),
    }),
  },
  responses: { 204: { description: "Deleted" }, ...ERRORS },
});

const ACTIONS = ["deploy", "start", "stop", "restart"] as const;
const actionRoutes = ACTIONS.map((action) => ({
  action,
  route: apiRoute("org:member", {
    method: "post",
    path: `${base}/{app}/${action}`,
    tags: ["apps"],
    summary: {
      deploy: "Deploy the saved spec (a new deployment)",
      start: "Start a stopped app: scale back to the spec's replicas",
      stop: "Stop the app: scale to 0, keep its config and volumes",
      restart: "Restart every task, one by one, without a new image",
    }[action],
    request: { params: AppParams },
    responses: { 202: jsonResponse(Accepted, "Started; progress on the app's topic"), ...ERRORS },
  }),
}));

const scale = apiRoute("org:member", {
  method: "post",
  path: `${base}/{app}/scale`,
  tags: ["apps"],
  summary: "Set a service's replicas (a new deployment)",
  request: {
    params: AppParams,
    ...jsonBody(
      z.object({ service: z.string().max(63), replicas: z.number().int().min(0).max(100) }),
    ),
  },
  responses: { 202: jsonResponse(Accepted, "Scaling"), ...ERRORS },
});

const rollback = apiRoute("org:member", {
  method: "post",
  path: `${base}/{app}/rollback`,
  tags: ["apps"],
  summary: "Deploy an earlier deployment's snapshot again (default: the one before the current)",
  request: {
    params: AppParams,
    ...jsonBody(z.object({ to: z.string().max(64).optional() })),
  },
  responses: { 202: jsonResponse(Accepted, "Rolling back"), ...ERRORS },
});

const move = apiRoute("org:member", {
  method: "post",
  path: `${base}/{app}/move`,
  tags: ["apps"],
  summary: "Move a service to another node (manual migration policy; a new deployment)",
  description: "Pins the service to `node` (a node id or hostname) and deploys the running " +
    "configuration there; tasks start on the new node before the old ones stop. 400 names " +
    "`service` or `node` when they are not in the app or the cluster; 409 when the app's policy " +
    "is not manual, or the node is not ready and active, or the service is already there.",
  request: {
    params: AppParams,
    ...jsonBody(z.object({
      service: z.string().min(1).max(63),
      node: z.string().min(1).max(128),
    })),
  },
  responses: { 202: jsonResponse(Accepted, "Moving; progress on the app's topic"), ...ERRORS },
});

const deployments = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/deployments`,
  tags: ["apps"],
  summary: "Deployments of an app, newest first",
  request: {
    params: AppParams,
    query: z.object({
      before: z.coerce.number().int().min(1).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(20),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(DeploymentSchema) }), "Deployments"),
    404: ERRORS[404],
  },
});

const deployment = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/deployments/{n}`,
  tags: ["apps"],
  summary: "One deployment with what changed against the one before it",
  request: { params: DeploymentParams },
  responses: {
    200: jsonResponse(
      DeploymentSchema.extend({
        previous_number: z.number().int().nullable(),
        diff: z.record(z.string(), z.unknown()),
      }),
      "The deployment and its diff",
    ),
    404: ERRORS[404],
  },
});

const status = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/status`,
  tags: ["apps"],
  summary: "What runs now: each service's tasks, their nodes and states",
  request: { params: AppParams },
  responses: {
    200: jsonResponse(z.object({ services: z.array(z.record(z.string(), z.unknown())) }), "Status"),
    404: ERRORS[404],
    503: ERRORS[503],
  },
});

const events = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/events`,
  tags: ["apps"],
  summary: "The app's timeline, newest first",
  request: {
    params: AppParams,
    query: z.object({
      before: z.string().max(64).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(z.object({
          id: z.string(),
          at: z.number().int(),
          kind: z.string(),
          message: z.string(),
          data: z.record(z.string(), z.unknown()),
        })),
      }),
      "Events",
    ),
    404: ERRORS[404],
  },
});

const logs = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/services/{service}/logs`,
  tags: ["apps"],
  summary: "The last log lines of every task of a service, with task and node on each line",
  request: {
    params: ServiceParams,
    query: z.object({ tail: z.coerce.number().int().min(1).max(5000).default(200) }),
  },
  responses: {
    200: jsonResponse(z.object({ lines: z.array(z.record(z.string(), z.unknown())) }), "Lines"),
    404: ERRORS[404],
    503: ERRORS[503],
  },
});

const logsStream = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{app}/services/{service}/logs/stream`,
  tags: ["apps"],
  summary: "Follow every task of a service live (Server-Sent Events)",
  description: "An empty `tail` event first (it resets what a client shows), then the last " +
    "`tail` lines of each task and every new line as it is written (event `lines`: JSON array " +
    "of `{stream, line, ts, task, task_id, node}`; `task` is `<service>.<slot>`, `node` the " +
    "node's hostname). `end` (`{code, reason}`) closes the stream: `ended`, `overflow` (the " +
    "reader fell behind), `limit` (the stream sent its byte budget; reconnect to go on) or " +
    "`error`. Comments every 15 s keep it open.",
  request: {
    params: ServiceParams,
    query: z.object({ tail: z.coerce.number().int().min(0).max(5000).default(100) }),
  },
  responses: {
    200: {
      description: "Log events",
      content: { "text/event-stream": { schema: z.string() } },
    },
    404: ERRORS[404],
    503: ERRORS[503],
  },
});

/** Lines per SSE event. */
const EVENT_LINES = 500;
/** Bytes of log text one follow stream sends before it ends (the viewer reconnects). */
const FOLLOW_MAX_BYTES = 64 * 1024 * 1024;

/** How long a log read waits for the tail before answering with what arrived. */
const LOG_READ_MS = 5_000;

/** App endpoints: reads for viewers, changes for members, delete for admins. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { search, status: wanted, limit, offset } = c.req.valid("query");
    const { apps, total } = await c.var.services.apps.store.list(orgScopeOf(c).org.id, {
      search,
      limit,
      offset,
    });
    const shown = wanted ? apps.filter((a) => a.desired_state === wanted) : apps;
    return c.json({ items: await Promise.all(shown.map((a) => appView(c, a))), total }, 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    // The spec is checked whole by the apps service (every problem a field of the 400).
    const r = await c.var.services.apps.create(appCaller(c), orgScopeOf(c).org.id, {
      ...body,
      spec: body.spec as unknown as AppSpecInput,
    });
    const view = await appView(c, r.app);
    if (!r.deployment) return c.json({ app: view, deployment: null }, 201);
    return c.json({ app: view, deployment: deploymentView(r.deployment) }, 202);
  });

  app.openapi(
    get,
    async (c) => c.json(await appView(c, await appOf(c, c.req.valid("param").app)), 200),
  );

  app.openapi(update, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const { spec, migration_policy, priority } = c.req.valid("json");
    const saved = await c.var.services.apps.update(appCaller(c), a, {
      spec: spec as unknown as AppSpecInput | undefined,
      migration_policy,
      priority,
    });
    return c.json(await appView(c, saved), 200);
  });

  app.openapi(remove, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const { confirm, volumes } = c.req.valid("query");
    if (confirm !== a.name) {
      throw new Invalid("Type the app's name to confirm the delete", {
        confirm: `must be "${a.name}"`,
      });
    }
    await c.var.services.apps.remove(appCaller(c), a, { volumes: volumes === "true" });
    return c.body(null, 204);
  });

  for (const { action, route } of actionRoutes) {
    app.openapi(route, async (c) => {
      const a = await appOf(c, c.req.valid("param").app);
      const d = await c.var.services.apps[action](appCaller(c), a);
      return c.json({ deployment: deploymentView(d) }, 202);
    });
  }

  app.openapi(scale, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const { service, replicas } = c.req.valid("json");
    const d = await c.var.services.apps.scale(appCaller(c), a, service, replicas);
    return c.json({ deployment: deploymentView(d) }, 202);
  });

  app.openapi(rollback, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const d = await c.var.services.apps.rollback(appCaller(c), a, c.req.valid("json").to);
    return c.json({ deployment: deploymentView(d) }, 202);
  });

  app.openapi(move, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const { service, node } = c.req.valid("json");
    const d = await c.var.services.apps.move(appCaller(c), a, service, node);
    return c.json({ deployment: deploymentView(d) }, 202);
  });

  app.openapi(deployments, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const items = await c.var.services.apps.store.deployments(a, c.req.valid("query"));
    return c.json({ items: items.map(deploymentView) }, 200);
  });

  app.openapi(deployment, async (c) => {
    const { app: ref, n } = c.req.valid("param");
    const d = await c.var.services.apps.deploymentWithDiff(await appOf(c, ref), n);
    return c.json({
      ...deploymentView(d),
      previous_number: d.previous_number,
      diff: d.diff as unknown as Record<string, unknown>,
    }, 200);
  });

  app.openapi(status, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const s = await c.var.services.apps.status(a);
    return c.json({ services: s.services as unknown as Record<string, unknown>[] }, 200);
  });

  app.openapi(events, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    return c.json({ items: await c.var.services.apps.store.events(a, c.req.valid("query")) }, 200);
  });

  app.openapi(logs, async (c) => {
    const { app: ref, service } = c.req.valid("param");
    const a = await appOf(c, ref);
    const stream = await c.var.services.apps.logs(a, service, {
      tail: c.req.valid("query").tail,
      follow: false,
    });
    const lines: Record<string, unknown>[] = [];
    const timer = setTimeout(() => stream.cancel(), LOG_READ_MS);
    try {
      for await (const batch of stream) {
        lines.push(...batch as unknown as Record<string, unknown>[]);
      }
    } finally {
      clearTimeout(timer);
      stream.cancel();
    }
    return c.json({ lines }, 200);
  });

  app.openapi(logsStream, async (c) => {
    const { app: ref, service } = c.req.valid("param");
    const a = await appOf(c, ref);
    const live = await c.var.services.apps.followLogs(a, service, c.req.valid("query").tail);
    return sseResponse(followEvents(live.lines), {
      signal: c.req.raw.signal,
      onClose: () => live.cancel(),
    });
  });
}

/** The SSE events of a followed service log, within FOLLOW_MAX_BYTES. */
async function* followEvents(lines: AsyncIterable<AppLogLine[]>): AsyncGenerator<string, void> {
  yield sseEvent("tail", []);
  let bytes = 0;
  try {
    for await (const batch of lines) {
      for (let i = 0; i < batch.length; i += EVENT_LINES) {
        const part = batch.slice(i, i + EVENT_LINES);
        yield sseEvent("lines", part);
        bytes += part.reduce((n, l) => n + l.line.length, 0);
      }
      if (bytes > FOLLOW_MAX_BYTES) {
        yield sseEvent("end", {
          code: "limit",
          reason: `This stream sent ${FOLLOW_MAX_BYTES >> 20} MiB of logs`,
        });
        return;
      }
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    yield sseEvent("end", {
      code: e.code === "overflow" ? "overflow" : "error",
      reason: e.message ?? String(err),
    });
    return;
  }
  yield sseEvent("end", { code: "ended", reason: "The service's log stream ended" });
}
