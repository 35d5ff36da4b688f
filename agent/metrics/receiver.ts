/**
 * A stand-in for the hub's report endpoint, for tests and the agent benchmark: a real HTTP server
 * on loopback that checks the token, gunzips, validates with the wire schema and acknowledges the
 * way the hub does (a seq it already has is a duplicate, not an error). It can be taken down (the
 * port then refuses connections) and brought back on the same port.
 */
import { MetricsBatch, type ReportAck } from "../../lib/protocol/metrics.ts";

/** A batch as received. */
export interface ReceivedBatch {
  batch: MetricsBatch;
  duplicate: boolean;
  headers: Headers;
}

/** Options of the receiver. */
export interface ReceiverOptions {
  token: string;
  /** Answer with this status instead of committing (undefined = commit); sees the parsed batch. */
  respond?: (batch: MetricsBatch, attempt: number) => number | undefined;
  /** More of the hub's answer to a committed batch (refused samples, skew). */
  ack?: (batch: MetricsBatch) => Partial<ReportAck>;
  /**
   * Also stand in for the hub's agent WebSocket (`/api/v1/agent/connect`, same token): welcome the
   * agent and ping it every `pingMs`, as the hub does, so a whole agent process can run against
   * the receiver (the agent benchmark). Off by default: tests of the reporter get a 404 there.
   */
  agentSocket?: { pingMs: number };
  /** Count batches but do not keep them in `received` (hour-long runs); default false. */
  discard?: boolean;
}

/** A running receiver. */
export interface Receiver {
  readonly url: string;
  /** Committed batches in arrival order (duplicates included, flagged). */
  readonly received: ReceivedBatch[];
  /** Every request's status, in order. */
  readonly statuses: number[];
  /** Stops listening: connections are refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): void;
  close(): Promise<void>;
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** The hub's side of an agent connection, reduced to a welcome and a ping every `pingMs`. */
function agentSocket(req: Request, token: string, pingMs: number): Response {
  if (req.headers.get("authorization") !== `Bearer ${token}`) {
    return Response.json({ error: { code: "unauthorized" } }, { status: 401 });
  }
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return Response.json({ error: { code: "upgrade_required" } }, { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  let timer: ReturnType<typeof setInterval> | undefined;
  socket.onopen = () => {
    socket.send(JSON.stringify({ t: "welcome", host_id: "receiver", protocol: 1 }));
    timer = setInterval(() => socket.send(JSON.stringify({ t: "ping", at: Date.now() })), pingMs);
  };
  socket.onclose = () => clearInterval(timer);
  return response;
}

/** Starts a receiver on 127.0.0.1 (a free port). */
export function startReceiver(opts: ReceiverOptions): Receiver {
  const received: ReceivedBatch[] = [];
  const statuses: number[] = [];
  // Seqs are unique per epoch, as on the hub.
  const committed = new Set<string>();
  let attempt = 0;
  const answer = (status: number, body: unknown) => {
    statuses.push(status);
    return Response.json(body, { status });
  };
  const handler = async (req: Request): Promise<Response> => {
    if (opts.agentSocket && new URL(req.url).pathname === "/api/v1/agent/connect") {
      return agentSocket(req, opts.token, opts.agentSocket.pingMs);
    }
    if (new URL(req.url).pathname !== "/api/v1/agent/report" || req.method !== "POST") {
      return answer(404, { error: { code: "not_found" } });
    }
    if (req.headers.get("authorization") !== `Bearer ${opts.token}`) {
      return answer(401, { error: { code: "unauthorized" } });
    }
    let batch: MetricsBatch;
    try {
      if (req.headers.get("content-encoding") !== "gzip") throw new Error("not gzip");
      batch = MetricsBatch.parse(JSON.parse(await gunzip(await req.bytes())));
    } catch (err) {
      return answer(400, { error: { code: "validation", message: String(err).slice(0, 200) } });
    }
    const status = opts.respond?.(batch, attempt++);
    if (status !== undefined) return answer(status, { error: { code: "simulated" } });
    const key = `${batch.epoch ?? ""}/${batch.seq}`;
    const duplicate = committed.has(key);
    committed.add(key);
    if (!opts.discard) received.push({ batch, duplicate, headers: req.headers });
    const ack: ReportAck = { seq: batch.seq, duplicate, ...opts.ack?.(batch) };
    return answer(200, ack);
  };
  let port = 0;
  let server: Deno.HttpServer | undefined;
  const listen = () => {
    server ??= Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler);
    port = (server.addr as Deno.NetAddr).port;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.shutdown();
  };
  listen();
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    statuses,
    down: stop,
    up: listen,
    close: stop,
  };
}
