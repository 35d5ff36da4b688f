import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { ImageRef } from "../../../lib/protocol/ops.ts";
import { listImages, pruneImages, removeImage } from "../../../lib/hosts/docker_actions.ts";
import { startPull } from "../../../lib/hosts/pull.ts";
import type { PullEvent } from "../../../lib/hosts/docker_views.ts";
import { AGENT_ERRORS, HostParams, ImageParams, ImageSchema, QueryBool } from "./docker_schemas.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";

const base = "/api/v1/orgs/{org}/hosts/{hostId}/images";

const list = apiRoute("org:viewer", {
  method: "get",
  path: base,
  tags: ["images"],
  summary: "Images of a host, newest first, with how many containers use each",
  request: { params: HostParams },
  responses: {
    200: jsonResponse(z.object({ items: z.array(ImageSchema) }), "Images"),
    ...AGENT_ERRORS,
  },
});

const pull = apiRoute("org:member", {
  method: "post",
  path: `${base}/pull`,
  tags: ["images"],
  summary: "Pull an image, streaming progress as NDJSON",
  description: 'One JSON object per line: `{type:"progress", id?, status, current?, total?}` ' +
    'per layer update, `{type:"dropped", count}` when progress was shed under load, and last ' +
    'either `{type:"done", ref}` or `{type:"error", status, code, message}`. Closing the ' +
    "connection cancels the pull. The audit row is written when the pull ends.",
  request: { params: HostParams, ...jsonBody(z.object({ ref: ImageRef })) },
  responses: {
    200: {
      description: "Progress lines",
      content: { "application/x-ndjson": { schema: z.string() } },
    },
    ...AGENT_ERRORS,
  },
});

const remove = apiRoute("org:admin", {
  method: "delete",
  path: `${base}/{ref}`,
  tags: ["images"],
  summary: "Remove an image or one of its tags",
  description: "409 while a container uses it; `force=true` removes it anyway (admins). " +
    "Removing one of several tags only untags.",
  request: { params: ImageParams, query: z.object({ force: QueryBool }) },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(
          z.object({ untagged: z.string().optional(), deleted: z.string().optional() }),
        ),
      }),
      "What was untagged and deleted",
    ),
    ...AGENT_ERRORS,
  },
});

const prune = apiRoute("org:admin", {
  method: "post",
  path: `${base}/prune`,
  tags: ["images"],
  summary: "Remove the host's dangling images",
  request: { params: HostParams },
  responses: {
    200: jsonResponse(
      z.object({ deleted: z.number().int(), space_reclaimed: z.number() }),
      "Pruned",
    ),
    ...AGENT_ERRORS,
  },
});

const encoder = new TextEncoder();

/** NDJSON body of a pull; cancelling the body (client gone) cancels the pull. */
function ndjson(events: AsyncIterable<PullEvent>, cancel: () => void): ReadableStream<Uint8Array> {
  const it = events[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    // Pull-driven: a slow client slows the relay instead of growing a buffer here.
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(encoder.encode(JSON.stringify(r.value) + "\n"));
    },
    async cancel() {
      cancel();
      await it.return?.(undefined);
    },
  });
}

/** Image endpoints: list (viewer), pull (member), remove and prune (admin). */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { hostId } = c.req.valid("param");
    return c.json({ items: await listImages(c.var.services, dockerCaller(c), hostId) }, 200);
  });

  app.openapi(pull, async (c) => {
    const { hostId } = c.req.valid("param");
    const { ref } = c.req.valid("json");
    const handle = await startPull(c.var.services, dockerCaller(c), hostId, ref);
    return new Response(ndjson(handle.events, handle.cancel), {
      status: 200,
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "cache-control": "no-store",
        // Proxies must pass lines through as they come.
        "x-accel-buffering": "no",
      },
    });
  });

  app.openapi(remove, async (c) => {
    const { hostId, ref } = c.req.valid("param");
    const { force } = c.req.valid("query");
    const items = await removeImage(c.var.services, dockerCaller(c), hostId, ref, force);
    return c.json({
      items: (items ?? []).map((i) => ({ untagged: i.Untagged, deleted: i.Deleted })),
    }, 200);
  });

  app.openapi(prune, async (c) => {
    const { hostId } = c.req.valid("param");
    return c.json(await pruneImages(c.var.services, dockerCaller(c), hostId), 200);
  });
}
