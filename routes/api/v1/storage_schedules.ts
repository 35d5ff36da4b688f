/**
 * Snapshot schedules of volumes: a cron in the user's time zone with a required retention
 * (lib/snapshots/schedules.ts). Viewers read them, members write them; every change is audited.
 * Each answer shows when the schedule runs next.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { IdParam, jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/storage/schedules";
const ScheduleParams = OrgParam.merge(IdParam);

const keep = (what: string) =>
  z.number().int().nullable().openapi({
    description: `Keep the newest snapshot of each of the last N ${what}`,
  });

const ScheduleSchema = z.object({
  id: z.string(),
  volume_id: z.string(),
  host_id: z.string(),
  volume: z.string(),
  cron: z.string(),
  timezone: z.string(),
  keep_last: z.number().int().nullable().openapi({ description: "Keep the last N snapshots" }),
  keep_daily: keep("days"),
  keep_weekly: keep("weeks"),
  keep_monthly: keep("months"),
  enabled: z.boolean(),
  next_run_at: z.number().int().nullable().openapi({ description: "When it runs next (ms)" }),
  last_run_at: z.number().int().nullable(),
  last_snapshot_id: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
}).openapi("SnapshotSchedule");

const timing = {
  cron: z.string().openapi({
    description: "Five fields: minute hour day month weekday",
    example: "30 2 * * *",
  }),
  timezone: z.string().optional().openapi({
    description: "IANA time zone of the cron (default UTC)",
    example: "Europe/Berlin",
  }),
  keep_last: z.number().int().optional(),
  keep_daily: z.number().int().optional(),
  keep_weekly: z.number().int().optional(),
  keep_monthly: z.number().int().optional(),
  enabled: z.boolean().optional(),
};

const ScheduleBody = z.object({
  host_id: z.string().openapi({ description: "The host that has the volume" }),
  volume: z.string(),
  ...timing,
}).openapi("SnapshotScheduleInput");

const SchedulePatchBody = z.object({
  ...timing,
  cron: timing.cron.optional(),
  keep_last: z.number().int().nullable().optional(),
  keep_daily: z.number().int().nullable().optional(),
  keep_weekly: z.number().int().nullable().optional(),
  keep_monthly: z.number().int().nullable().optional(),
}).openapi("SnapshotSchedulePatch");

const NOT_FOUND = jsonResponse(z.any(), "No such schedule");

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["storage"],
  summary: "Snapshot schedules, with when each runs next",
  request: {
    params: OrgParam,
    query: z.object({ volume_id: z.string().max(64).optional() }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(ScheduleSchema) }), "Schedules") },
});

const get = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "One snapshot schedule",
  request: { params: ScheduleParams },
  responses: { 200: jsonResponse(ScheduleSchema, "The schedule"), 404: NOT_FOUND },
});

const create = apiRoute("org:member", {
  method: "post",
  path: base,
  tags: ["storage"],
  summary: "Schedule snapshots of a volume, with their retention",
  description: "At least one of keep_last, keep_daily, keep_weekly, keep_monthly is required " +
    "(400 naming keep_last otherwise). After each scheduled snapshot completes, snapshots of the " +
    "volume beyond the retention are forgotten and pruned. An occurrence missed while the hub " +
    "was down runs once when it is back.",
  request: { params: OrgParam, ...jsonBody(ScheduleBody) },
  responses: {
    201: jsonResponse(ScheduleSchema, "Scheduled"),
    409: jsonResponse(z.any(), "The volume has too many schedules"),
  },
});

const update = apiRoute("org:member", {
  method: "patch",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Change a schedule's time, retention (null drops a keep) or turn it on or off",
  request: { params: ScheduleParams, ...jsonBody(SchedulePatchBody) },
  responses: { 200: jsonResponse(ScheduleSchema, "Changed"), 404: NOT_FOUND },
});

const remove = apiRoute("org:member", {
  method: "delete",
  path: `${base}/{id}`,
  tags: ["storage"],
  summary: "Delete a schedule (its snapshots stay)",
  request: { params: ScheduleParams },
  responses: { 204: { description: "Deleted" }, 404: NOT_FOUND },
});

/** Snapshot schedule endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { org } = orgScopeOf(c);
    const items = await c.var.services.snapshotSchedules.list(org.id, c.req.valid("query"));
    return c.json({ items }, 200);
  });

  app.openapi(get, async (c) => {
    const { org } = orgScopeOf(c);
    return c.json(await c.var.services.snapshotSchedules.get(org.id, c.req.valid("param").id), 200);
  });

  app.openapi(create, async (c) => {
    const { org } = orgScopeOf(c);
    const s = await c.var.services.snapshotSchedules.create(
      actionContext(c),
      org.id,
      c.req.valid("json"),
    );
    return c.json(s, 201);
  });

  app.openapi(update, async (c) => {
    const { org } = orgScopeOf(c);
    const s = await c.var.services.snapshotSchedules.update(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(s, 200);
  });

  app.openapi(remove, async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.snapshotSchedules.remove(
      actionContext(c),
      org.id,
      c.req.valid("param").id,
    );
    return c.body(null, 204);
  });
}
