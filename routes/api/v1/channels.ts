import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";
import { CHANNEL_KINDS, ChannelConfigs } from "../../../lib/alerts/channels/config.ts";
import { ONE_LINE } from "../../../lib/alerts/schema.ts";

const ChannelParams = OrgParam.merge(IdParam);
const Name = z.string().trim().min(1).max(100).regex(ONE_LINE, "must be one line");

const ChannelSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(CHANNEL_KINDS),
  enabled: z.boolean(),
  secrets: z.record(z.string(), z.boolean()).openapi({
    description: "Which write-only fields are set (their values are never returned)",
  }),
  hints: z.record(z.string(), z.unknown()).openapi({
    description: "What may be shown: the URL's host, or the SMTP server, sender and recipients",
  }),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("Channel");

const CreateChannel = z.discriminatedUnion("kind", [
  z.object({
    name: Name,
    enabled: z.boolean().optional(),
    kind: z.literal("slack"),
    config: ChannelConfigs.slack,
  }),
  z.object({
    name: Name,
    enabled: z.boolean().optional(),
    kind: z.literal("discord"),
    config: ChannelConfigs.discord,
  }),
  z.object({
    name: Name,
    enabled: z.boolean().optional(),
    kind: z.literal("webhook"),
    config: ChannelConfigs.webhook,
  }),
  z.object({
    name: Name,
    enabled: z.boolean().optional(),
    kind: z.literal("email"),
    config: ChannelConfigs.email,
  }),
]).openapi("ChannelInput");

const UpdateChannel = z.object({
  name: Name.optional(),
  enabled: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional().openapi({
    description: "Fields to change; an omitted or empty secret field keeps its stored value",
  }),
});

const DeliverySchema = z.object({
  id: z.string(),
  alert_id: z.string().nullable(),
  event: z.enum(["firing", "resolved", "reminder", "test"]),
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  next_attempt_at: z.number().int(),
  created_at: z.number().int(),
  sent_at: z.number().int().nullable(),
}).openapi("Delivery");

const listChannels = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/orgs/{org}/channels",
  tags: ["alerts"],
  summary: "Notification channels (secrets are write-only: never returned)",
  request: { params: OrgParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(ChannelSchema) }), "Channels") },
});

const getChannel = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/orgs/{org}/channels/{id}",
  tags: ["alerts"],
  summary: "One notification channel",
  request: { params: ChannelParams },
  responses: { 200: jsonResponse(ChannelSchema, "Channel") },
});

const createChannel = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/channels",
  tags: ["alerts"],
  summary: "Create a Slack, Discord, webhook or email channel",
  description:
    "URLs must be http(s); link-local and metadata addresses are refused, loopback and private " +
    "ones unless CAPSTAN_ALLOW_PRIVATE_TARGETS=1. Webhook POSTs are signed: " +
    "`X-Capstan-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, `X-Capstan-Timestamp` " +
    "(unix seconds, also in the body), `X-Capstan-Delivery` (same on retries).",
  request: { params: OrgParam, ...jsonBody(CreateChannel) },
  responses: {
    201: jsonResponse(ChannelSchema, "Created"),
    409: jsonResponse(z.any(), "Name already in use"),
  },
});

const updateChannel = apiRoute("org:admin", {
  method: "patch",
  path: "/api/v1/orgs/{org}/channels/{id}",
  tags: ["alerts"],
  summary: "Rename, enable/disable, or change config fields of a channel",
  request: { params: ChannelParams, ...jsonBody(UpdateChannel) },
  responses: { 200: jsonResponse(ChannelSchema, "Updated") },
});

const deleteChannel = apiRoute("org:admin", {
  method: "delete",
  path: "/api/v1/orgs/{org}/channels/{id}",
  tags: ["alerts"],
  summary: "Delete a channel and its delivery records",
  request: { params: ChannelParams },
  responses: { 204: { description: "Deleted" } },
});

const testChannel = apiRoute("org:admin", {
  method: "post",
  path: "/api/v1/orgs/{org}/channels/{id}/test",
  tags: ["alerts"],
  summary: "Send a test notification now; the answer says whether it was delivered",
  request: { params: ChannelParams },
  responses: {
    200: jsonResponse(
      z.object({
        id: z.string(),
        status: z.enum(["sent", "failed"]),
        error: z.string().nullable(),
      }),
      "Result",
    ),
  },
});

const listDeliveries = apiRoute("org:admin", {
  method: "get",
  path: "/api/v1/orgs/{org}/channels/{id}/deliveries",
  tags: ["alerts"],
  summary: "Recent deliveries of a channel: status, attempts, last error",
  request: {
    params: ChannelParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(DeliverySchema) }), "Deliveries") },
});

/** Notification channel endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listChannels, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json({ items: await c.var.services.alerts.channels.list(org.id) }, 200);
  });

  app.openapi(getChannel, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(await c.var.services.alerts.channels.get(org.id, c.req.valid("param").id), 200);
  });

  app.openapi(createChannel, async (c) => {
    const { org } = orgScopeOf(c);
    const v = await c.var.services.alerts.channels.create(
      actionContext(c),
      org.id,
      c.req.valid("json"),
    );
    return c.json(v, 201);
  });

  app.openapi(updateChannel, async (c) => {
    const { org } = orgScopeOf(c);
    const v = await c.var.services.alerts.channels.update(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(v, 200);
  });

  app.openapi(deleteChannel, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.alerts.channels.remove(actionContext(c), org.id, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(testChannel, async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.testChannel(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
    );
    return c.json(r, 200);
  });

  app.openapi(listDeliveries, async (c) => {
    const { org } = orgScopeOf(c);
    const { id } = c.req.valid("param");
    await c.var.services.alerts.channels.get(org.id, id);
    const rows = await c.var.services.alerts.delivery.list(org.id, id, c.req.valid("query").limit);
    return c.json({
      items: rows.map((d) => ({
        id: d.id,
        alert_id: d.alert_id,
        event: d.event,
        status: d.status,
        attempts: Number(d.attempts),
        last_error: d.last_error,
        next_attempt_at: Number(d.next_attempt_at),
        created_at: Number(d.created_at),
        sent_at: d.sent_at === null ? null : Number(d.sent_at),
      })),
    }, 200);
  });
}
