/**
 * Storage: the org's volumes with their snapshot settings and sync state, snapshots (take one,
 * list, delete — one, several, or old ones by a keep policy with a preview) and restores (into the
 * same volume with confirmation, into a new volume, or a scratch check). Snapshots and restores
 * run on the volume's host and answer 202 with the running row; progress goes to the realtime
 * topics `snapshot.<id>` / `restore.<id>`. Viewers read; members take and restore; admins delete.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppContext, AppEnv } from "../../../lib/http/context.ts";
import { actionContext, orgScopeOf } from "../../../lib/http/context.ts";
import { invalidFields, NotFound } from "../../../lib/errors.ts";
import { jsonBody, jsonResponse, OrgParam } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/storage";

const Id = z.string().min(1).max(64);
const IdParams = OrgParam.extend({ id: Id.openapi({ param: { name: "id", in: "path" } }) });
const VolumeRefParams = OrgParam.extend({
  id: z.string().min(1).max(200).openapi({
    param: { name: "id", in: "path" },
    description: "The volume's id, or `<host id>:<volume>` for one without settings yet",
  }),
});
const Limit = z.coerce.number().int().min(1).max(200).default(50);

const VolumeSchema = z.object({
  id: z.string().nullable(),
  ref: z.string(),
  host_id: z.string(),
  host_name: z.string(),
  host_online: z.boolean(),
  volume: z.string(),
  present: z.boolean().nullable(),
  app_id: z.string().nullable(),
  service: z.string().nullable(),
  containers: z.array(z.object({ id: z.string(), name: z.string(), state: z.string() })),
  target_id: z.string().nullable(),
  mode: z.enum(["live", "stop", "dump"]),
  dump: z.record(z.string(), z.string()).nullable(),
  on_stop: z.boolean(),
  sync: z.boolean(),
  size_bytes: z.number().nullable(),
  last_snapshot_at: z.number().nullable(),
  sync_state: z.enum(["none", "pending", "synced", "failed"]),
  synced_snapshot_id: z.string().nullable(),
  synced_at: z.number().nullable(),
  sync_error: z.string().nullable(),
}).openapi("StorageVolume");

const VolumeRowSchema = z.object({
  id: z.string(),
  host_id: z.string(),
  volume: z.string(),
  app_id: z.string().nullable(),
  service: z.string().nullable(),
  target_id: z.string().nullable(),
  mode: z.enum(["live", "stop", "dump"]),
  on_stop: z.boolean(),
  sync: z.boolean(),
  size_bytes: z.number().nullable(),
  sync_state: z.enum(["none", "pending", "synced", "failed"]),
  synced_snapshot_id: z.string().nullable(),
  synced_at: z.number().nullable(),
  sync_error: z.string().nullable(),
}).openapi("StorageVolumeSettings");

const Status = z.enum(["running", "complete", "failed"]);
const SnapshotSchema = z.object({
  id: z.string(),
  volume_id: z.string(),
  host_id: z.string(),
  volume: z.string(),
  app_id: z.string().nullable(),
  target_id: z.string(),
  restic_id: z.string().nullable(),
  status: Status,
  trigger: z.enum(["manual", "schedule", "stop", "api"]),
  mode: z.enum(["live", "stop", "dump"]),
  schedule_id: z.string().nullable(),
  files: z.number().nullable(),
  files_new: z.number().nullable(),
  files_changed: z.number().nullable(),
  bytes_processed: z.number().nullable(),
  bytes_added: z.number().nullable().openapi({ description: "New data stored (dedup shows)" }),
  progress_bytes: z.number().nullable(),
  progress_total: z.number().nullable(),
  started_at: z.number(),
  heartbeat_at: z.number(),
  finished_at: z.number().nullable(),
  duration_ms: z.number().nullable(),
  error: z.string().nullable(),
  created_by: z.string().nullable(),
}).openapi("Snapshot");

const RestoreKind = z.enum(["same", "new", "start", "verify"]);
const RestoreSchema = z.object({
  id: z.string(),
  snapshot_id: z.string(),
  host_id: z.string(),
  volume: z.string(),
  kind: RestoreKind,
  status: Status,
  progress_bytes: z.number().nullable(),
  progress_total: z.number().nullable(),
  started_at: z.number(),
  heartbeat_at: z.number(),
  finished_at: z.number().nullable(),
  error: z.string().nullable(),
  created_by: z.string().nullable(),
}).openapi("SnapshotRestore");

const ERRORS = {
  404: jsonResponse(z.any(), "No such host, volume, snapshot or restore in this organization"),
  409: jsonResponse(z.any(), "A snapshot or restore of that volume runs, or the volume exists"),
  503: jsonResponse(z.any(), "The host's agent is not connected"),
} as const;

const listVolumes = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/volumes`,
  tags: ["storage"],
  summary: "Every volume of the org's hosts with size, app, target, last snapshot and sync state",
  request: {
    params: OrgParam,
    query: z.object({
      host_id: Id.optional(),
      after: z.string().max(200).optional().openapi({
        description: "The last `ref` of the previous page",
      }),
      limit: z.coerce.number().int().min(1).max(500).default(200),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(VolumeSchema), next_after: z.string().nullable() }),
      "Volumes",
    ),
    404: ERRORS[404],
  },
});

const patchVolume = apiRoute("org:member", {
  method: "patch",
  path: `${base}/volumes/{id}`,
  tags: ["storage"],
  summary: "Change a volume's target, snapshot on stop, restore on start (sync) or mode",
  request: {
    params: VolumeRefParams,
    ...jsonBody(
      z.object({
        target_id: Id.nullable().optional().openapi({ description: "null: the org's default" }),
        on_stop: z.boolean().optional().openapi({ description: "Snapshot when a user stops it" }),
        sync: z.boolean().optional().openapi({
          description: "Restore the newest snapshot when its app starts where it is older",
        }),
        mode: z.string().optional().openapi({ description: "live, stop or dump" }),
        dump: z.object({
          container: z.string(),
          engine: z.string().openapi({ description: "postgres, mysql or mongo" }),
          database: z.string().optional(),
          user: z.string().optional(),
        }).nullable().optional().openapi({
          description: "Dump mode: the database container on the volume's host and its engine",
        }),
      }).openapi("StorageVolumePatch"),
    ),
  },
  responses: { 200: jsonResponse(VolumeRowSchema, "The volume's settings"), ...ERRORS },
});

const listSnapshots = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/snapshots`,
  tags: ["storage"],
  summary: "Snapshots, newest first",
  request: {
    params: OrgParam,
    query: z.object({
      volume_id: Id.optional(),
      host_id: Id.optional(),
      app_id: Id.optional(),
      target_id: Id.optional(),
      status: Status.optional(),
      before: Id.optional().openapi({ description: "The last id of the previous page" }),
      limit: Limit,
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(SnapshotSchema), next_before: z.string().nullable() }),
      "Snapshots",
    ),
  },
});

const createSnapshot = apiRoute("org:member", {
  method: "post",
  path: `${base}/snapshots`,
  tags: ["storage"],
  summary: "Snapshot a volume now (runs on its host; progress on the snapshot's topic)",
  request: {
    params: OrgParam,
    ...jsonBody(
      z.object({
        host_id: Id,
        volume: z.string().min(1).max(128),
        target_id: Id.nullable().optional().openapi({
          description: "Default: the volume's target, else the org's default target",
        }),
      }).strict().openapi("SnapshotCreate"),
    ),
  },
  responses: { 202: jsonResponse(SnapshotSchema, "Running"), ...ERRORS },
});

const getSnapshot = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/snapshots/{id}`,
  tags: ["storage"],
  summary: "One snapshot",
  request: { params: IdParams },
  responses: { 200: jsonResponse(SnapshotSchema, "The snapshot"), 404: ERRORS[404] },
});

const deleteSnapshot = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/snapshots/{id}`,
  tags: ["storage"],
  summary: "Delete a snapshot (forgotten and pruned in its repository, then the record)",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...ERRORS },
});

const bulkDelete = apiRoute("org:admin", {
  method: "post",
  path: `${base}/snapshots/delete`,
  tags: ["storage"],
  summary: "Delete snapshots in bulk: by ids, or a volume's old ones by a keep policy",
  description: "`preview: true` answers what would go (and what stays, for a policy) and " +
    "deletes nothing.",
  request: {
    params: OrgParam,
    ...jsonBody(
      z.object({
        ids: z.array(Id).min(1).max(1000).optional(),
        volume_id: Id.optional(),
        keep: z.object({
          last: z.number().int().min(1).max(100_000).optional(),
          daily: z.number().int().min(1).max(100_000).optional(),
          weekly: z.number().int().min(1).max(100_000).optional(),
          monthly: z.number().int().min(1).max(100_000).optional(),
        }).strict().optional(),
        preview: z.boolean().default(false),
      }).strict().openapi("SnapshotBulkDelete"),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({
        preview: z.boolean(),
        removed: z.array(z.string()).openapi({ description: "Ids of the snapshots that go" }),
        kept: z.array(z.string()).openapi({ description: "Ids a keep policy keeps" }),
        snapshots: z.array(SnapshotSchema).openapi({
          description: "The snapshots that go as they were (a preview, or a delete by ids)",
        }),
      }),
      "What went (or would go)",
    ),
    ...ERRORS,
  },
});

const listRestores = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/restores`,
  tags: ["storage"],
  summary: "Restores, newest first",
  request: {
    params: OrgParam,
    query: z.object({
      snapshot_id: Id.optional(),
      host_id: Id.optional(),
      before: Id.optional(),
      limit: Limit,
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(RestoreSchema), next_before: z.string().nullable() }),
      "Restores",
    ),
  },
});

const createRestore = apiRoute("org:member", {
  method: "post",
  path: `${base}/restores`,
  tags: ["storage"],
  summary: "Restore a complete snapshot (progress on the restore's topic)",
  description: "`same`: into the volume it came from — what uses it is stopped first and " +
    "started after; needs `confirm: true`. `new`: into a new volume `volume` (409 if it " +
    "exists). `verify`: into a scratch volume removed after. `host_id` defaults to the " +
    "snapshot's host.",
  request: {
    params: OrgParam,
    ...jsonBody(
      z.object({
        snapshot_id: Id,
        kind: z.enum(["same", "new", "verify"]),
        volume: z.string().min(1).max(128).optional(),
        host_id: Id.optional(),
        confirm: z.boolean().optional(),
      }).strict().openapi("SnapshotRestoreCreate"),
    ),
  },
  responses: { 202: jsonResponse(RestoreSchema, "Running"), ...ERRORS },
});

const getRestore = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/restores/{id}`,
  tags: ["storage"],
  summary: "One restore",
  request: { params: IdParams },
  responses: { 200: jsonResponse(RestoreSchema, "The restore"), 404: ERRORS[404] },
});

const orgId = (c: AppContext) => orgScopeOf(c).org.id;
const svc = (c: AppContext) => c.var.services;

function volumeRowView(
  v: Awaited<ReturnType<AppContext["var"]["services"]["snapshotStore"]["volume"]>>,
) {
  const r = v!;
  return {
    id: r.id,
    host_id: r.host_id,
    volume: r.volume,
    app_id: r.app_id,
    service: r.service,
    target_id: r.target_id,
    mode: r.mode,
    dump: r.dump ? JSON.parse(r.dump) as Record<string, string> : null,
    on_stop: r.on_stop === 1,
    sync: r.sync === 1,
    size_bytes: r.size_bytes,
    sync_state: r.sync_state,
    synced_snapshot_id: r.synced_snapshot_id,
    synced_at: r.synced_at,
    sync_error: r.sync_error,
  };
}

/** Storage endpoints. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(listVolumes, async (c) => {
    return c.json(await svc(c).storageVolumes.list(orgId(c), c.req.valid("query")), 200);
  });

  app.openapi(patchVolume, async (c) => {
    const row = await svc(c).storageVolumes.update(
      actionContext(c),
      orgId(c),
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return c.json(volumeRowView(row), 200);
  });

  app.openapi(listSnapshots, async (c) => {
    const q = c.req.valid("query");
    const items = await svc(c).snapshotStore.snapshots(orgId(c), q);
    const next = items.length === q.limit ? items[items.length - 1].id : null;
    return c.json({ items, next_before: next }, 200);
  });

  app.openapi(createSnapshot, async (c) => {
    const body = c.req.valid("json");
    const ctx = actionContext(c);
    const { snapshot } = await svc(c).snapshotRuns.start(ctx, orgId(c), {
      ...body,
      trigger: ctx.actor.type === "token" ? "api" : "manual",
    });
    return c.json(snapshot, 202);
  });

  app.openapi(getSnapshot, async (c) => {
    const { id } = c.req.valid("param");
    const s = await svc(c).snapshotStore.snapshot(orgId(c), id);
    if (!s) throw new NotFound(`No snapshot ${id}`);
    return c.json(s, 200);
  });

  app.openapi(deleteSnapshot, async (c) => {
    await svc(c).snapshotRuns.remove(actionContext(c), orgId(c), [c.req.valid("param").id]);
    return c.body(null, 204);
  });

  app.openapi(bulkDelete, async (c) => {
    const body = c.req.valid("json");
    const org = orgId(c);
    const s = svc(c);
    const rows = async (ids: string[]) =>
      (await Promise.all(ids.map((id) => s.snapshotStore.snapshot(org, id))))
        .filter((x) => x !== undefined);
    if (body.ids && !body.volume_id && !body.keep) {
      const found = await rows(body.ids);
      if (found.length !== new Set(body.ids).size) {
        throw new NotFound("Some of the snapshots do not exist");
      }
      if (!body.preview) await s.snapshotRuns.remove(actionContext(c), org, body.ids);
      const ids = found.map((x) => x.id);
      return c.json({ preview: body.preview, removed: ids, kept: [], snapshots: found }, 200);
    }
    if (!body.volume_id || !body.keep || body.ids) {
      throw invalidFields({ _: "Give either ids, or volume_id with keep" });
    }
    const volumeId = body.volume_id;
    const keep = body.keep;
    const run = () => s.snapshotRuns.applyRetention(org, volumeId, keep, { dryRun: body.preview });
    // Only a real deletion is a user's action to audit; a preview changes nothing.
    const out = body.preview ? await run() : await s.audit.run(
      actionContext(c),
      "snapshot.deleted",
      { orgId: org, target: { type: "volume", id: volumeId }, metadata: { keep } },
      run,
    );
    const snapshots = body.preview ? await rows(out.removed) : [];
    return c.json({ preview: body.preview, ...out, snapshots }, 200);
  });

  app.openapi(listRestores, async (c) => {
    const q = c.req.valid("query");
    const items = await svc(c).snapshotStore.restores(orgId(c), q);
    const next = items.length === q.limit ? items[items.length - 1].id : null;
    return c.json({ items, next_before: next }, 200);
  });

  app.openapi(createRestore, async (c) => {
    const body = c.req.valid("json");
    if (body.kind === "same" && body.confirm !== true) {
      throw invalidFields({
        confirm: "Restoring into the same volume replaces its data: confirm it",
      });
    }
    const { restore } = await svc(c).snapshotRuns.restore(
      actionContext(c),
      orgId(c),
      body.snapshot_id,
      { kind: body.kind, volume: body.volume, host_id: body.host_id },
    );
    return c.json(restore, 202);
  });

  app.openapi(getRestore, async (c) => {
    const { id } = c.req.valid("param");
    const r = await svc(c).snapshotStore.restore(orgId(c), id);
    if (!r) throw new NotFound(`No restore ${id}`);
    return c.json(r, 200);
  });
}
