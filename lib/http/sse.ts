/**
 * Server-Sent Events responses. SSE rather than a WebSocket for read-only live feeds because the
 * browser's EventSource sends the session cookie and reconnects by itself.
 *
 * The body is pull-based: the next event is produced only when the runtime wants more bytes, so a
 * client that stops reading stops the producer here, and the bounded queue behind it (see
 * lib/agents/viewer_queue.ts) decides when to give up on that client.
 */

/** Heartbeat comment interval: keeps proxies and the browser from timing an idle stream out. */
export const SSE_HEARTBEAT_MS = 15_000;

/** One SSE event with a JSON payload. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Options of `sseResponse()`. */
export interface SseOptions {
  /** The request's signal: aborts when the client disconnects. */
  signal?: AbortSignal;
  /** Called once when the stream stops for any reason (client gone, source done). */
  onClose?: () => void;
  heartbeatMs?: number;
  /** Reconnection delay the browser should use, ms. */
  retryMs?: number;
}

/** A `text/event-stream` response whose events come from `source` (already formatted). */
export function sseResponse(source: AsyncGenerator<string, void>, opts: SseOptions = {}): Response {
  const enc = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const cleanup = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    opts.onClose?.();
    // Queued behind a pending next(), which onClose has just made finish.
    source.return(undefined).catch(() => {});
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(`retry: ${opts.retryMs ?? 3000}\n\n`));
      timer = setInterval(() => {
        try {
          controller.enqueue(enc.encode(": keep-alive\n\n"));
        } catch {
          cleanup();
        }
      }, opts.heartbeatMs ?? SSE_HEARTBEAT_MS);
      opts.signal?.addEventListener("abort", () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // Already closed or cancelled.
        }
      }, { once: true });
    },
    async pull(controller) {
      if (closed) return;
      let r: IteratorResult<string, void>;
      try {
        r = await source.next();
      } catch {
        r = { done: true, value: undefined };
      }
      if (closed) return;
      if (r.done) {
        cleanup();
        controller.close();
        return;
      }
      controller.enqueue(enc.encode(r.value));
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // Proxies such as nginx would otherwise hold events back in their buffers.
      "x-accel-buffering": "no",
    },
  });
}
