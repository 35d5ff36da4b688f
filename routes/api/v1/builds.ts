/**
 * Builds from Git: a service's source (members connect and build; credentials are write-only),
 * the app's webhook (admins rotate its secret, shown once), builds (queue position, plan, log,
 * cancel, retry) and webhook deliveries (redeliver a stored good push). The webhook endpoint
 * itself is public: the provider's signature over the raw body is its only credential, checked
 * before the body is parsed; bodies over 1 MB are refused with 413 before it runs.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppContext, AppEnv } from "../../../lib/http/context.ts";
import { buildCaller } from "../../../lib/http/callers.ts";
import type { Build } from "../../../lib/builds/store.ts";
import { failureHint } from "../../../lib/builds/service.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";
import { appOf, AppParams } from "./apps.ts";

const base = "/api/v1/orgs/{org}/apps/{app}";

const ServiceParams = AppParams.extend({
  service: z.string().min(1).max(63).openapi({ param: { name: "service", in: "path" } }),
});
const BuildParams = AppParams.extend({
  n: z.string().regex(/^\d{1,9}$/).openapi({
    param: { name: "n", in: "path" },
    description: "The build's number in its app",
  }),
});
const DeliveryParams = AppParams.extend({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
});

const SourceSchema = z.object({
  service: z.string(),
  repo_url: z.string(),
  branch: z.string(),
  subdir: z.string(),
  build_file: z.string(),
  builder: z.enum(["auto", "dockerfile", "nix"]),
  build_args: z.record(z.string(), z.string()),
  target: z.string(),
  auth: z.enum(["none", "token", "ssh"]),
  token_set: z.boolean().openapi({ description: "A token is stored (it is never shown)" }),
  ssh_public_key: z.string().nullable().openapi({
    description: "The deploy key to add to the repository (read access)",
  }),
  ssh_fingerprint: z.string().nullable(),
  known_host_fingerprint: z.string().nullable().openapi({
    description: "The Git host's key, pinned on the first clone",
  }),
  auto_deploy: z.boolean(),
  build_tags: z.boolean(),
  updated_at: z.number().int(),
}).openapi("BuildSource");

const SourceBody = z.object({
  repo_url: z.string().openapi({ example: "https://git.example.com/team/shop.git" }),
  branch: z.string().optional().openapi({ example: "main" }),
  subdir: z.string().optional(),
  build_file: z.string().optional().openapi({ description: "Dockerfile (or Nix file) path" }),
  builder: z.enum(["auto", "dockerfile", "nix"]).optional(),
  build_args: z.record(z.string(), z.string()).optional(),
  target: z.string().optional(),
  auth: z.enum(["none", "token", "ssh"]).optional().openapi({
    description: "`ssh` generates a deploy key (its public half is answered)",
  }),
  token: z.string().optional().openapi({ description: "HTTPS access token (write-only)" }),
  username: z.string().optional(),
  auto_deploy: z.boolean().optional(),
  build_tags: z.boolean().optional(),
}).openapi("BuildSourceInput");

const BuildSchema = z.object({
  id: z.string(),
  number: z.number().int(),
  service: z.string(),
  state: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  trigger: z.enum(["manual", "webhook", "retry"]),
  actor_name: z.string().nullable(),
  repo_url: z.string(),
  branch: z.string(),
  commit_sha: z.string().nullable(),
  commit_author: z.string().nullable(),
  commit_message: z.string().nullable(),
  builder: z.string().nullable(),
  plan: z.unknown().nullable(),
  dockerfile: z.string().nullable(),
  host_id: z.string().nullable(),
  image: z.string().nullable(),
  image_id: z.string().nullable(),
  size_bytes: z.number().int().nullable(),
  failure: z.string().nullable(),
  hint: z.string().nullable().openapi({ description: "What to do about a failure" }),
  error: z.string().nullable(),
  deploy: z.boolean(),
  deployment_id: z.string().nullable(),
  queue_position: z.number().int().nullable().openapi({
    description: "Builds ahead of a queued one on its worker",
  }),
  queued_at: z.number().int(),
  started_at: z.number().int().nullable(),
  finished_at: z.number().int().nullable(),
  duration_ms: z.number().int().nullable(),
}).openapi("Build");

const DeliverySchema = z.object({
  id: z.string(),
  at: z.number().int(),
  provider: z.string(),
  event: z.string(),
  delivery_id: z.string().nullable(),
  branch: z.string().nullable(),
  commit_sha: z.string().nullable(),
  outcome: z.enum([
    "queued",
    "skipped",
    "duplicate",
    "bad_signature",
    "ignored",
    "disabled",
    "ping",
  ]),
  reason: z.string(),
  build_id: z.string().nullable(),
  redeliverable: z.boolean(),
}).openapi("WebhookDelivery");

const HookSchema = z.object({
  url: z.string().openapi({ description: "Paste into the Git host's webhook settings" }),
  disabled_until: z.number().int().nullable(),
  rotated_at: z.number().int(),
}).openapi("BuildWebhook");

const ERRORS = {
  400: jsonResponse(z.any(), "Bad input, the field named"),
  403: jsonResponse(z.any(), "The role or token may not"),
  404: jsonResponse(z.any(), "No such app, service, build or delivery"),
  409: jsonResponse(z.any(), "The build has (not) ended, or there is no source"),
} as const;

async function buildView(c: AppContext, b: Build) {
  const { runner: _r, cancel_requested: _c, plan, deploy, ...rest } = b;
  return {
    ...rest,
    plan: plan ? JSON.parse(plan) : null,
    deploy: deploy === 1,
    hint: failureHint(b),
    queue_position: b.state === "queued" ? await c.var.services.builds.position(b) : null,
    duration_ms: b.finished_at && b.started_at ? b.finished_at - b.started_at : null,
    size_bytes: b.size_bytes,
  };
}

const hookUrl = (c: AppContext, id: string) =>
  `${c.var.services.config.publicUrl}/api/v1/hooks/${id}`;

const sources = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/sources`,
  tags: ["builds"],
  summary: "The Git sources of the app's services (never a credential)",
  request: { params: AppParams },
  responses: {
    200: jsonResponse(z.object({ items: z.array(SourceSchema) }), "Sources"),
    404: ERRORS[404],
  },
});

const putSource = apiRoute("org:member", {
  method: "put",
  path: `${base}/services/{service}/source`,
  tags: ["builds"],
  summary: "Connect a service to a Git repository (or change it)",
  description: "The first connection makes the app's webhook; its secret is answered once, as " +
    "`webhook_secret`. Local paths as repositories are for platform admins only.",
  request: { params: ServiceParams, ...jsonBody(SourceBody) },
  responses: {
    200: jsonResponse(
      z.object({
        source: SourceSchema,
        webhook: HookSchema,
        webhook_secret: z.string().optional().openapi({ description: "Shown once" }),
      }),
      "Connected",
    ),
    ...ERRORS,
  },
});

const deleteSource = apiRoute("org:member", {
  method: "delete",
  path: `${base}/services/{service}/source`,
  tags: ["builds"],
  summary: "Disconnect a service from its repository (builds stay in the history)",
  request: { params: ServiceParams },
  responses: { 204: { description: "Disconnected" }, ...ERRORS },
});

const getHook = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/webhook`,
  tags: ["builds"],
  summary: "The app's webhook URL and state (never its secret)",
  request: { params: AppParams },
  responses: { 200: jsonResponse(HookSchema, "The webhook"), 404: ERRORS[404] },
});

const rotateHook = apiRoute("org:admin", {
  method: "post",
  path: `${base}/webhook/rotate`,
  tags: ["builds"],
  summary: "A new webhook secret (shown once); the old one stops working at once",
  request: { params: AppParams },
  responses: {
    200: jsonResponse(HookSchema.extend({ secret: z.string() }), "The new secret"),
    ...ERRORS,
  },
});

const startBuild = apiRoute("org:member", {
  method: "post",
  path: `${base}/services/{service}/builds`,
  tags: ["builds"],
  summary: "Build the service's branch head (or a commit) on a worker; deploys when it succeeds",
  request: {
    params: ServiceParams,
    ...jsonBody(z.object({
      commit: z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit SHA").optional(),
      deploy: z.boolean().optional().openapi({ description: "Default: the source's auto_deploy" }),
    })),
  },
  responses: { 202: jsonResponse(BuildSchema, "Queued"), ...ERRORS },
});

const listBuilds = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/builds`,
  tags: ["builds"],
  summary: "The app's builds, newest first",
  request: {
    params: AppParams,
    query: z.object({
      before: z.coerce.number().int().min(1).optional().openapi({
        description: "The last number of the previous page",
      }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(BuildSchema) }), "Builds"),
    404: ERRORS[404],
  },
});

const getBuild = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/builds/{n}`,
  tags: ["builds"],
  summary: "One build: state, commit, plan, image, failure hint, queue position",
  request: { params: BuildParams },
  responses: { 200: jsonResponse(BuildSchema, "The build"), 404: ERRORS[404] },
});

const getLog = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/builds/{n}/log`,
  tags: ["builds"],
  summary: "The build's log as text (the tail, when it outgrew the cap)",
  request: { params: BuildParams },
  responses: {
    200: { description: "text/plain", content: { "text/plain": { schema: z.string() } } },
    404: ERRORS[404],
  },
});

const cancelBuild = apiRoute("org:member", {
  method: "post",
  path: `${base}/builds/{n}/cancel`,
  tags: ["builds"],
  summary: "Cancel a queued or running build (the worker kills it)",
  request: { params: BuildParams },
  responses: { 202: jsonResponse(BuildSchema, "Cancelling"), ...ERRORS },
});

const retryBuild = apiRoute("org:member", {
  method: "post",
  path: `${base}/builds/{n}/retry`,
  tags: ["builds"],
  summary: "Build an ended build's commit again",
  request: { params: BuildParams },
  responses: { 202: jsonResponse(BuildSchema, "Queued"), ...ERRORS },
});

const listDeliveries = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/webhook/deliveries`,
  tags: ["builds"],
  summary: "Webhook deliveries, newest first, with what became of each",
  request: {
    params: AppParams,
    query: z.object({
      before: z.string().max(64).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(DeliverySchema) }), "Deliveries"),
    404: ERRORS[404],
  },
});

const redeliver = apiRoute("org:member", {
  method: "post",
  path: `${base}/webhook/deliveries/{id}/redeliver`,
  tags: ["builds"],
  summary: "Build a stored verified push again",
  request: { params: DeliveryParams },
  responses: { 202: jsonResponse(BuildSchema, "Queued"), ...ERRORS },
});

const receive = apiRoute("public", {
  method: "post",
  path: "/api/v1/hooks/{id}",
  tags: ["builds"],
  summary: "A Git host's push (GitHub, GitLab, Bitbucket, Gitea/Forgejo), signed",
  description: "Answers 202 and queues the build; 401 for a missing or bad signature (audited); " +
    "413 over 1 MB; 429 while disabled after 30 bad signatures in a minute.",
  request: {
    params: z.object({
      id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ outcome: z.string() }), "A ping, a duplicate or an ignored event"),
    202: jsonResponse(z.object({ outcome: z.string() }).passthrough(), "Queued or skipped"),
    400: jsonResponse(z.any(), "Not a known provider, or not JSON"),
    401: jsonResponse(z.any(), "Missing or bad signature"),
    404: jsonResponse(z.any(), "No such webhook"),
    413: jsonResponse(z.any(), "Body over 1 MB"),
    429: jsonResponse(z.any(), "Disabled for a while after too many bad signatures"),
  },
});

const deliveryView = (
  d: Awaited<ReturnType<AppContext["var"]["services"]["builds"]["deliveries"]>>[number],
) => {
  const { push, hook_id: _h, org_id: _o, app_id: _a, ...rest } = d;
  return { ...rest, redeliverable: push !== null };
};

async function hookView(
  c: AppContext,
  app: Parameters<AppContext["var"]["services"]["builds"]["hook"]>[0],
) {
  const h = await c.var.services.builds.hook(app);
  return h
    ? { url: hookUrl(c, h.id), disabled_until: h.disabled_until, rotated_at: h.rotated_at }
    : undefined;
}

/** Build endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(sources, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    return c.json({ items: await c.var.services.builds.sources(a) }, 200);
  });

  app.openapi(putSource, async (c) => {
    const { app: ref, service } = c.req.valid("param");
    const a = await appOf(c, ref);
    const r = await c.var.services.builds.connect(buildCaller(c), a, service, c.req.valid("json"));
    return c.json({ ...r, webhook: (await hookView(c, a))! }, 200);
  });

  app.openapi(deleteSource, async (c) => {
    const { app: ref, service } = c.req.valid("param");
    await c.var.services.builds.disconnect(buildCaller(c), await appOf(c, ref), service);
    return c.body(null, 204);
  });

  app.openapi(getHook, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const h = await hookView(c, a);
    if (!h) return c.json({ error: "not_found", message: `App "${a.name}" has no webhook` }, 404);
    return c.json(h, 200);
  });

  app.openapi(rotateHook, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const { secret } = await c.var.services.builds.rotateWebhookSecret(buildCaller(c), a);
    return c.json({ ...(await hookView(c, a))!, secret }, 200);
  });

  app.openapi(startBuild, async (c) => {
    const { app: ref, service } = c.req.valid("param");
    const a = await appOf(c, ref);
    const b = await c.var.services.builds.trigger(buildCaller(c), a, service, c.req.valid("json"));
    return c.json(await buildView(c, b), 202);
  });

  app.openapi(listBuilds, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const items = await c.var.services.builds.builds(a, c.req.valid("query"));
    return c.json({ items: await Promise.all(items.map((b) => buildView(c, b))) }, 200);
  });

  const buildOf = async (c: AppContext, p: { app: string; n: string }) => {
    const a = await appOf(c, p.app);
    return { a, b: await c.var.services.builds.build(a, Number(p.n)) };
  };

  app.openapi(getBuild, async (c) => {
    const { b } = await buildOf(c, c.req.valid("param"));
    return c.json(await buildView(c, b), 200);
  });

  app.openapi(getLog, async (c) => {
    const { a, b } = await buildOf(c, c.req.valid("param"));
    const { text, dropped_bytes } = await c.var.services.builds.logText(b);
    const head = dropped_bytes ? `[… ${dropped_bytes} earlier bytes not kept]\n` : "";
    return c.body(head + text, 200, {
      "content-type": "text/plain; charset=utf-8",
      "content-disposition": `attachment; filename="${a.name}-build-${b.number}.log"`,
    });
  });

  app.openapi(cancelBuild, async (c) => {
    const { a, b } = await buildOf(c, c.req.valid("param"));
    await c.var.services.builds.cancel(buildCaller(c), a, b);
    return c.json(await buildView(c, await c.var.services.builds.build(a, b.number)), 202);
  });

  app.openapi(retryBuild, async (c) => {
    const { a, b } = await buildOf(c, c.req.valid("param"));
    const again = await c.var.services.builds.retry(buildCaller(c), a, b);
    return c.json(await buildView(c, again), 202);
  });

  app.openapi(listDeliveries, async (c) => {
    const a = await appOf(c, c.req.valid("param").app);
    const items = await c.var.services.builds.deliveries(a, c.req.valid("query"));
    return c.json({ items: items.map(deliveryView) }, 200);
  });

  app.openapi(redeliver, async (c) => {
    const { app: ref, id } = c.req.valid("param");
    const a = await appOf(c, ref);
    const b = await c.var.services.builds.redeliver(buildCaller(c), a, id);
    return c.json(await buildView(c, b), 202);
  });

  app.openapi(receive, async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const r = await c.var.services.builds.receive(c.req.valid("param").id, c.req.raw.headers, body);
    // deno-lint-ignore no-explicit-any
    return c.json(r.body as any, r.status as any);
  });
}
