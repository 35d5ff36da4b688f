/**
 * Shared upstream streams of container logs and stats. However many people watch a container,
 * the hub asks its agent for one stream per (host, kind, container): the first viewer starts it,
 * later viewers join it, and after the last one leaves it is cancelled (after a short linger, so
 * a page reload does not restart it). Each viewer reads from its own bounded queue; a viewer that
 * falls behind is dropped, never the upstream.
 */
import type { AgentStream } from "./connection.ts";
import type { OpName } from "../protocol/ops.ts";
import { type EndReason, type QueueLimits, ViewerQueue } from "./viewer_queue.ts";
import {
  type CpuLimit,
  type DockerStats,
  parseStatsTime,
  type StatsSummary,
  summarizeStats,
} from "../docker/stats.ts";
import type { LogLine } from "../docker/streams.ts";
import { HttpError } from "../http/errors.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";

export type { EndReason } from "./viewer_queue.ts";

/** What the hub needs of an agent connection. */
export interface StreamSource {
  stream(op: OpName, params: unknown): AgentStream;
  call<T = unknown>(op: OpName, params: unknown): Promise<T>;
}

/** The kinds of shared stream. */
export type StreamKind = "logs" | "stats";

/** A message fanned out to viewers. */
export type StreamMessage =
  | { type: "lines"; lines: LogLine[] }
  | { type: "dropped"; count: number }
  | { type: "stats"; summary: StatsSummary };

/** Tunables of the hub; every field has a default. */
export interface StreamHubOptions {
  /** The live connection of a host; throws (503) when its agent is offline. */
  connect(hostId: string): StreamSource;
  /** How long an upstream outlives its last viewer, ms. Default 5000; tests use 0. */
  lingerMs?: number;
  /** Per-viewer queue limit in messages. Default 512. */
  maxQueueMessages?: number;
  /** Per-viewer queue limit in bytes (approximate). Default 2 MiB. */
  maxQueueBytes?: number;
  /** Viewers of one upstream at most; more are refused with 429. Default 200. */
  maxViewersPerStream?: number;
  log?: Logger;
}

/** One viewer's subscription: iterate it; `close()` when the client goes away. */
export interface Subscription extends AsyncIterable<StreamMessage> {
  /** The next message, or undefined once the stream has ended. */
  next(): Promise<StreamMessage | undefined>;
  /** Why it ended, once it has. */
  readonly endReason: EndReason | undefined;
  /** Leaves the stream (idempotent); the upstream stops when the last viewer has left. */
  close(): void;
  /**
   * Resolves once the upstream has delivered something (so the engine is following the log)
   * or ended, or after `timeoutMs`. A tail read after this leaves no gap before the follow.
   */
  flowing(timeoutMs: number): Promise<void>;
}

interface Upstream {
  key: string;
  viewers: Set<ViewerQueue<StreamMessage>>;
  linger: ReturnType<typeof setTimeout> | undefined;
  cancel(): void;
  /** Latest stats summary, handed to a viewer as soon as it joins. */
  last?: StatsSummary;
  done: boolean;
  /** Settles at the first chunk or the end. */
  flowing: PromiseWithResolvers<void>;
}

/** Rough size of a message for the byte limit: what it will cost as JSON, without serialising. */
function sizeOf(m: StreamMessage): number {
  if (m.type !== "lines") return 600;
  let n = 16;
  for (const l of m.lines) n += l.line.length + (l.ts?.length ?? 0) + 40;
  return n;
}

/** Maps whatever ended an upstream to the reason viewers see. */
function endReasonOf(err: unknown, kind: StreamKind): EndReason {
  if (err === undefined) {
    return {
      code: "ended",
      reason: kind === "logs"
        ? "The log stream ended: the container stopped or was removed"
        : "The stats stream ended: the container stopped or was removed",
    };
  }
  if (err instanceof HttpError) {
    if (err.status === 404) return { code: "not_found", reason: err.message };
    if (err.code === "host_offline") return { code: "host_offline", reason: err.message };
    return { code: "error", reason: err.message };
  }
  return { code: "error", reason: err instanceof Error ? err.message : String(err) };
}

/** Creates the hub of shared streams. */
export function createStreamHub(options: StreamHubOptions) {
  const o = {
    lingerMs: 5000,
    maxQueueMessages: 512,
    maxQueueBytes: 2 * 1024 * 1024,
    maxViewersPerStream: 200,
    log: silentLogger,
    ...options,
  };
  const upstreams = new Map<string, Upstream>();
  let started = 0;

  const limits = (): QueueLimits => ({
    maxMessages: o.maxQueueMessages,
    maxBytes: o.maxQueueBytes,
  });

  function fanOut(up: Upstream, m: StreamMessage): void {
    const bytes = sizeOf(m);
    // Copy: a viewer dropped while pushing leaves the set.
    for (const v of [...up.viewers]) v.push(m, bytes);
  }

  function finish(up: Upstream, reason: EndReason): void {
    if (up.done) return;
    up.done = true;
    up.flowing.resolve();
    clearTimeout(up.linger);
    if (upstreams.get(up.key) === up) upstreams.delete(up.key);
    up.cancel();
    for (const v of [...up.viewers]) v.end(reason);
    up.viewers.clear();
  }

  /** Reads the agent stream until it ends, turning chunks into viewer messages. */
  async function pump(
    up: Upstream,
    kind: StreamKind,
    src: StreamSource,
    containerId: string,
    s: { stream?: AgentStream; cancelled: boolean },
  ): Promise<void> {
    // Start after the caller has added its viewer, so an immediate failure still reaches it.
    await null;
    let error: unknown;
    try {
      let limit: CpuLimit | undefined;
      if (kind === "stats") {
        // The CPU limit does not come with samples; read it once per upstream.
        const inspect = await src.call<{ HostConfig?: CpuLimit }>("container.inspect", {
          id: containerId,
        });
        limit = inspect.HostConfig;
        if (s.cancelled) return;
      }
      const stream = s.stream = kind === "logs"
        ? src.stream("container.logs", { id: containerId, tail: 0, follow: true, timestamps: true })
        : src.stream("container.stats_stream", { id: containerId });
      if (s.cancelled) return stream.cancel();
      let previous: DockerStats | undefined;
      for await (const chunk of stream) {
        if (up.done) break;
        up.flowing.resolve();
        if (Array.isArray(chunk)) {
          fanOut(up, { type: "lines", lines: chunk as LogLine[] });
        } else if (chunk && typeof chunk === "object" && "dropped" in chunk) {
          // The agent shed load on its side: tell viewers how much they missed.
          fanOut(up, { type: "dropped", count: Number((chunk as { dropped: number }).dropped) });
        } else if (kind === "stats" && chunk && typeof chunk === "object") {
          const sample = chunk as DockerStats;
          // A stopped container's samples carry the zero time and no figures worth showing.
          if (!Number.isFinite(parseStatsTime(sample.read))) continue;
          const summary = summarizeStats(sample, previous, limit);
          previous = sample;
          up.last = summary;
          fanOut(up, { type: "stats", summary });
        }
      }
    } catch (err) {
      error = err;
    }
    if (!s.cancelled) {
      o.log.debug("upstream stream ended", { key: up.key, error: error && String(error) });
    }
    finish(up, endReasonOf(error, kind));
  }

  function start(hostId: string, kind: StreamKind, containerId: string, key: string): Upstream {
    const src = o.connect(hostId);
    const s: { stream?: AgentStream; cancelled: boolean } = { cancelled: false };
    const up: Upstream = {
      key,
      viewers: new Set(),
      linger: undefined,
      done: false,
      flowing: Promise.withResolvers<void>(),
      cancel: () => {
        s.cancelled = true;
        s.stream?.cancel();
      },
    };
    upstreams.set(key, up);
    started++;
    pump(up, kind, src, containerId, s);
    return up;
  }

  function leave(up: Upstream, v: ViewerQueue<StreamMessage>): void {
    up.viewers.delete(v);
    if (up.viewers.size > 0 || up.done) return;
    if (o.lingerMs <= 0) return finish(up, { code: "closed", reason: "No viewers left" });
    clearTimeout(up.linger);
    up.linger = setTimeout(() => {
      if (up.viewers.size === 0) finish(up, { code: "closed", reason: "No viewers left" });
    }, o.lingerMs);
  }

  return {
    /**
     * Joins the shared stream of a container, starting it when nobody watches yet. Throws at
     * once (503) when the host's agent is offline, so a route can answer before streaming.
     */
    subscribe(hostId: string, kind: StreamKind, containerId: string): Subscription {
      const key = `${hostId}\0${kind}\0${containerId}`;
      let up = upstreams.get(key);
      if (!up || up.done) up = start(hostId, kind, containerId, key);
      if (up.viewers.size >= o.maxViewersPerStream) {
        throw new HttpError(429, "too_many_viewers", "Too many viewers of this stream");
      }
      clearTimeout(up.linger);
      up.linger = undefined;
      const owner = up;
      const q = new ViewerQueue<StreamMessage>(limits(), (v) => leave(owner, v));
      up.viewers.add(q);
      if (up.last) q.push({ type: "stats", summary: up.last }, 600);
      return {
        next: () => q.next(),
        get endReason() {
          return q.endReason;
        },
        close: () => q.end({ code: "closed", reason: "The viewer left" }),
        flowing: (timeoutMs) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
          return Promise.race([owner.flowing.promise, timeout]).finally(() => clearTimeout(timer));
        },
        [Symbol.asyncIterator]: () => q[Symbol.asyncIterator](),
      };
    },

    /** Counts for tests and diagnostics: live upstreams, their viewers, and upstreams ever started. */
    counts(): { upstreams: number; viewers: number; started: number } {
      let viewers = 0;
      for (const u of upstreams.values()) viewers += u.viewers.size;
      return { upstreams: upstreams.size, viewers, started };
    },

    /** Changes tunables at run time (tests shorten the linger and shrink queues). */
    configure(changes: Partial<Omit<StreamHubOptions, "connect">>): void {
      Object.assign(o, changes);
    },

    /** Ends every stream (hub shutdown). */
    close(): void {
      for (const up of [...upstreams.values()]) {
        finish(up, { code: "shutdown", reason: "The hub is shutting down" });
      }
    },
  };
}

export type StreamHub = ReturnType<typeof createStreamHub>;
