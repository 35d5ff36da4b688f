import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { sseEvent, sseResponse } from "../../../lib/http/sse.ts";
import { TailCutoff } from "../../../lib/agents/log_tail.ts";
import type { StreamSource } from "../../../lib/agents/stream_hub.ts";
import type { LogLine } from "../../../lib/docker/streams.ts";
import { ContainerRefParams } from "../../_schemas/docker.ts";
import { jsonResponse, OrgParam } from "./schemas.ts";

/** Path parameters naming one container on one host of an organization. */
const ContainerPathParams = OrgParam.extend(ContainerRefParams.shape);

/** Lines a tail or a download may ask for. */
export const MAX_TAIL = 10_000;
/** A tail held in memory to join it to the follow stream is capped in bytes too. */
const MAX_TAIL_BYTES = 8 * 1024 * 1024;
/** How long a new viewer waits for the follow stream to flow before reading its tail, ms. */
const FOLLOW_WAIT_MS = 400;
/** Lines per SSE event when sending a long tail. */
const EVENT_LINES = 500;

const base = "/api/v1/orgs/{org}/hosts/{hostId}/containers/{id}";
const eventStream = (description: string) => ({
  description,
  content: { "text/event-stream": { schema: z.string() } },
});
const offline = jsonResponse(z.any(), "The host's agent is not connected");

const logsStream = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/logs/stream`,
  tags: ["containers"],
  summary: "Follow a container's logs (Server-Sent Events)",
  description: "Sends the last `tail` lines (event `tail`, which replaces what a client shows), " +
    "then new lines as they are written (event `lines`: JSON array of `{stream, line, ts}`, " +
    "stream `stdout` or `stderr`). `dropped` (`{count}`) says lines were shed under load; " +
    "`end` (`{code, reason}`) closes the stream. Comments every 15 s keep it open.",
  request: {
    params: ContainerPathParams,
    query: z.object({
      tail: z.coerce.number().int().min(0).max(MAX_TAIL).default(100),
      timestamps: z.enum(["0", "1", "true", "false"]).default("1"),
    }),
  },
  responses: { 200: eventStream("Log events"), 503: offline },
});

const statsStream = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/stats/stream`,
  tags: ["containers"],
  summary: "Live resource usage of a container (Server-Sent Events)",
  description: "Event `stats` about once a second: CPU (% of host, cores, % of limit), memory " +
    "used excluding page cache, limit and %, network and block I/O totals and rates, pids. " +
    "`end` (`{code, reason}`) closes the stream.",
  request: { params: ContainerPathParams },
  responses: { 200: eventStream("Stats events"), 503: offline },
});

const logsDownload = apiRoute("org:viewer", {
  method: "get",
  path: `${base}/logs`,
  tags: ["containers"],
  summary: "Download a container's last log lines",
  description: "`format=txt`: one `ts stream line` per line; `format=json`: an array of " +
    "`{stream, line, ts}`. Sent as an attachment.",
  request: {
    params: ContainerPathParams,
    query: z.object({
      tail: z.coerce.number().int().min(1).max(MAX_TAIL).default(1000),
      format: z.enum(["txt", "json"]).default("txt"),
    }),
  },
  responses: {
    200: {
      description: "The lines",
      content: {
        "text/plain": { schema: z.string() },
        "application/json": {
          schema: z.array(z.object({ stream: z.string(), line: z.string(), ts: z.string() })),
        },
      },
    },
    503: offline,
  },
});

/** The container a request names: its host must belong to the org (404) and be online (503). */
async function target(c: AppContext, hostId: string) {
  const { org } = orgScopeOf(c);
  await c.var.services.hosts.get(org.id, hostId);
  return c.var.services.agents.require(hostId);
}

/** The last `tail` lines of a container, oldest first, at most MAX_TAIL_BYTES of them. */
async function readTail(conn: StreamSource, id: string, tail: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  let bytes = 0;
  const s = conn.stream("container.logs", { id, tail, follow: false, timestamps: true });
  for await (const chunk of s) {
    if (!Array.isArray(chunk)) continue;
    for (const l of chunk as LogLine[]) {
      lines.push(l);
      bytes += l.line.length;
    }
    // Keep the newest lines: that is what a tail is for.
    while (bytes > MAX_TAIL_BYTES && lines.length > 1) bytes -= lines.shift()!.line.length;
  }
  return lines;
}

/** Safe for a Content-Disposition filename: the ref already matched ContainerRefParams. */
const fileName = (id: string, ext: string) =>
  `${/^[a-f0-9]{64}$/.test(id) ? id.slice(0, 12) : id}-logs.${ext}`;

/** A streamed download body from an async generator of text pieces. */
function textStream(gen: AsyncGenerator<string, void>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const r = await gen.next();
      if (r.done) controller.close();
      else controller.enqueue(enc.encode(r.value));
    },
    cancel() {
      gen.return(undefined).catch(() => {});
    },
  });
}

/** Live logs and stats of containers, and log downloads. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(logsStream, async (c) => {
    const { hostId, id } = c.req.valid("param");
    const q = c.req.valid("query");
    const conn = await target(c, hostId);
    const withTs = q.timestamps === "1" || q.timestamps === "true";
    // Join the shared follow stream before reading the tail, so no line falls between the two.
    const sub = c.var.services.streams.subscribe(hostId, "logs", id);
    let tail: LogLine[];
    try {
      // The engine attaches the follow and answers the tail in either order; reading the tail
      // once the follow delivers closes the window where a line could be in neither.
      await sub.flowing(FOLLOW_WAIT_MS);
      tail = await readTail(conn, id, q.tail);
    } catch (err) {
      sub.close();
      throw err;
    }
    const cutoff = new TailCutoff(tail);
    const out = (lines: LogLine[]) =>
      lines.map((l) => withTs ? l : { stream: l.stream, line: l.line });
    async function* events(): AsyncGenerator<string, void> {
      yield sseEvent("tail", out(tail.slice(0, EVENT_LINES)));
      for (let i = EVENT_LINES; i < tail.length; i += EVENT_LINES) {
        yield sseEvent("lines", out(tail.slice(i, i + EVENT_LINES)));
      }
      tail = [];
      for (let m = await sub.next(); m; m = await sub.next()) {
        if (m.type === "lines") {
          const fresh = cutoff.filter(m.lines);
          if (fresh.length) yield sseEvent("lines", out(fresh));
        } else if (m.type === "dropped") yield sseEvent("dropped", { count: m.count });
      }
      yield sseEvent("end", sub.endReason ?? { code: "ended", reason: "The stream ended" });
    }
    return sseResponse(events(), { signal: c.req.raw.signal, onClose: () => sub.close() });
  });

  app.openapi(statsStream, async (c) => {
    const { hostId, id } = c.req.valid("param");
    const conn = await target(c, hostId);
    // Inspect first: a missing container is a 404 before any byte is sent, and a stopped one has
    // no figures to stream (the engine would send empty samples until it starts again).
    const info = await conn.call<{ State?: { Running?: boolean } }>("container.inspect", { id });
    if (!info.State?.Running) {
      return sseResponse(
        (async function* () {
          yield sseEvent("end", { code: "ended", reason: "The container is not running" });
        })(),
        { signal: c.req.raw.signal },
      );
    }
    const sub = c.var.services.streams.subscribe(hostId, "stats", id);
    async function* events(): AsyncGenerator<string, void> {
      for (let m = await sub.next(); m; m = await sub.next()) {
        if (m.type === "stats") yield sseEvent("stats", m.summary);
      }
      yield sseEvent("end", sub.endReason ?? { code: "ended", reason: "The stream ended" });
    }
    return sseResponse(events(), { signal: c.req.raw.signal, onClose: () => sub.close() });
  });

  app.openapi(logsDownload, async (c) => {
    const { hostId, id } = c.req.valid("param");
    const q = c.req.valid("query");
    const conn = await target(c, hostId);
    const it = conn.stream("container.logs", {
      id,
      tail: q.tail,
      follow: false,
      timestamps: true,
    })[Symbol.asyncIterator]();
    // The first chunk (or the end) arrives before any byte is sent, so a missing container is a 404.
    const first = await it.next();
    const json = q.format === "json";
    async function* body(): AsyncGenerator<string, void> {
      let n = 0;
      if (json) yield "[";
      try {
        for (let r = first; !r.done; r = await it.next()) {
          if (!Array.isArray(r.value)) continue;
          let piece = "";
          for (const l of r.value as LogLine[]) {
            piece += json
              ? `${n++ ? ",\n" : "\n"}${
                JSON.stringify({ stream: l.stream, line: l.line, ts: l.ts ?? "" })
              }`
              : `${l.ts ?? "-"} ${l.stream} ${l.line}\n`;
          }
          yield piece;
        }
      } finally {
        await it.return?.();
      }
      if (json) yield "\n]\n";
    }
    return new Response(textStream(body()), {
      headers: {
        "content-type": json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
        "content-disposition": `attachment; filename="${fileName(id, q.format)}"`,
        "cache-control": "no-store",
      },
    });
  });
}
