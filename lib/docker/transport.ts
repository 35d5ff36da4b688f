/**
 * The Docker Engine API transport: one `fetch` per call over the engine's unix socket, with a
 * timeout, Docker's error message on failure, and streams that close their connection when the
 * caller stops. The resource modules (containers.ts, images.ts, …) build their calls on it.
 */

import { DockerInputError } from "./validate.ts";

/** The API version this client speaks; the engine installed here is 20.10 (API 1.41). */
export const DOCKER_API_VERSION = "1.41";
/** Default socket of a local engine. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** An error answered by the engine (or 503/504 when it could not be reached in time). */
export class DockerError extends Error {
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DockerError";
    this.status = status;
  }
}

/** The fetch the client needs; injectable so tests can observe requests without an engine. */
export type FetchLike = (
  url: string,
  init: RequestInit & { client?: Deno.HttpClient },
) => Promise<Response>;

/** Options for `createDockerClient`. */
export interface DockerClientOptions {
  socketPath?: string;
  /** Per-request limit for non-streaming calls and for a stream's response headers. */
  timeoutMs?: number;
  /** Override the transport (tests). When set, no socket client is created. */
  fetch?: FetchLike;
}

/** Per-call options shared by every method. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Engine filters, e.g. `{ label: ["capstan.test=1"], status: ["running"] }`. */
export type Filters = Record<string, string[]>;

/** A streamed response: iterate it, and close it (or abort its signal) to drop the connection. */
export interface DockerStream<T> extends AsyncIterable<T> {
  /** Stops the stream and closes its connection; safe to call more than once. */
  close(): Promise<void>;
}

type Query = Record<string, string | number | boolean | undefined>;

/** One request to the engine. */
export interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  /** A body sent as it is read (a build context), instead of JSON. */
  upload?: { stream: ReadableStream<Uint8Array>; contentType: string };
  signal?: AbortSignal;
  /** Extra time on top of the client timeout (stop waits `t` seconds before killing). */
  extraMs?: number;
}

/** A path segment for the engine's URLs (names were validated against allowlists before). */
export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** The engine's `filters` query parameter, or nothing for no filters. */
export function filtersParam(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  return JSON.stringify(filters);
}

/** Sends calls to one engine; every resource module shares one per client. */
export class EngineTransport {
  readonly socketPath: string;
  readonly #timeoutMs: number;
  readonly #fetch: FetchLike;
  readonly #http: Deno.HttpClient | undefined;
  #closed = false;

  constructor(opts: DockerClientOptions) {
    this.socketPath = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    if (opts.fetch) {
      this.#fetch = opts.fetch;
    } else {
      // The socket is the proxy: every request goes over it whatever the URL's host says.
      this.#http = Deno.createHttpClient({
        proxy: { transport: "unix", path: this.socketPath },
      });
      this.#fetch = fetch;
    }
  }

  /** Releases the socket's HTTP client; closing twice is harmless (teardowns overlap). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#http?.close();
  }

  #url(path: string, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) qs.set(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
    }
    const q = qs.toString();
    return `http://docker/v${DOCKER_API_VERSION}${path}${q ? `?${q}` : ""}`;
  }

  /** Turns a thrown transport error into something a caller can act on. */
  #mapError(err: unknown, call: Call, timedOut: AbortSignal, limit: number): unknown {
    if (err instanceof DockerError) return err;
    if (call.signal?.aborted) return call.signal.reason ?? err;
    if (err instanceof SyntaxError) {
      return new DockerError(502, `Invalid JSON from the Docker Engine for ${call.path}`, {
        cause: err,
      });
    }
    if (timedOut.aborted) {
      return new DockerError(
        504,
        `Docker Engine did not answer ${call.method} ${call.path} within ${limit} ms`,
        { cause: err },
      );
    }
    const msg = err instanceof Error ? err.message : String(err);
    return new DockerError(
      503,
      `Cannot connect to the Docker Engine at unix://${this.socketPath}: ${msg}`,
      { cause: err },
    );
  }

  /**
   * Sends one request and checks its status. The timeout covers the headers; for non-stream
   * calls the caller reads the body before calling `done()`, so it covers the body too.
   */
  async #send(
    call: Call,
  ): Promise<{ res: Response; done: () => void; timer: AbortSignal; limit: number }> {
    const limit = this.#timeoutMs + (call.extraMs ?? 0);
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), limit);
    const done = () => clearTimeout(handle);
    const signal = call.signal ? AbortSignal.any([call.signal, timer.signal]) : timer.signal;
    const init: RequestInit & { client?: Deno.HttpClient } = { method: call.method, signal };
    if (this.#http) init.client = this.#http;
    if (call.body !== undefined) {
      init.body = JSON.stringify(call.body);
      init.headers = { "content-type": "application/json" };
    } else if (call.upload) {
      // Streamed as it is produced (chunked), so a large context never sits in memory whole.
      init.body = call.upload.stream;
      init.headers = { "content-type": call.upload.contentType };
    }
    let res: Response;
    try {
      res = await this.#fetch(this.#url(call.path, call.query), init);
    } catch (err) {
      done();
      throw this.#mapError(err, call, timer.signal, limit);
    }
    // 304 is the engine's "already in that state" for start/stop, which callers treat as done.
    if (res.ok || res.status === 304) return { res, done, timer: timer.signal, limit };
    let text = "";
    try {
      text = await res.text();
    } catch (err) {
      throw this.#mapError(err, call, timer.signal, limit);
    } finally {
      done();
    }
    throw new DockerError(res.status, engineMessage(text, res.status));
  }

  /** A call whose answer is JSON (or nothing: 204/304 give undefined). */
  async json<T>(call: Call): Promise<T> {
    const { res, done, timer, limit } = await this.#send(call);
    try {
      if (res.status === 204 || res.status === 304) {
        await res.body?.cancel();
        return undefined as T;
      }
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw this.#mapError(err, call, timer, limit);
    } finally {
      done();
    }
  }

  /** A call whose answer has no body worth reading. */
  async void(call: Call): Promise<void> {
    await this.json<unknown>(call);
  }

  /** A call whose answer is plain text (the ping's "OK"). */
  async text(call: Call): Promise<string> {
    const { res, done, timer, limit } = await this.#send(call);
    try {
      return await res.text();
    } catch (err) {
      throw this.#mapError(err, call, timer, limit);
    } finally {
      done();
    }
  }

  /** Opens a streaming response; the header timeout is lifted once the engine has answered. */
  async stream<T>(
    call: Call,
    decode: (chunks: AsyncIterable<Uint8Array>) => AsyncGenerator<T, void, undefined>,
  ): Promise<DockerStream<T>> {
    const { res, done } = await this.#send(call);
    done();
    if (!res.body) return emptyStream<T>();
    return bodyStream(
      res.body,
      decode,
      call.signal,
      (err) =>
        err instanceof DockerError || err instanceof DockerInputError ? err : new DockerError(
          502,
          `Docker Engine stream ${call.method} ${call.path} failed: ${
            err instanceof Error ? err.message : String(err)
          }`,
          { cause: err },
        ),
    );
  }
}

/** Extracts Docker's `{"message": …}` from an error body, falling back to the raw text. */
function engineMessage(text: string, status: number): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const m = (JSON.parse(trimmed) as { message?: unknown }).message;
      if (typeof m === "string" && m) return m;
    } catch {
      // not JSON after all; use the text
    }
  }
  return trimmed.slice(0, 1000) || `Docker Engine answered ${status}`;
}

function emptyStream<T>(): DockerStream<T> {
  return {
    async *[Symbol.asyncIterator]() {},
    close: () => Promise.resolve(),
  };
}

/**
 * Wraps a response body as a DockerStream. Cancelling the reader (close, break out of the loop,
 * or the caller's signal) drops the connection, which is how the engine learns to stop.
 */
function bodyStream<T>(
  body: ReadableStream<Uint8Array>,
  decode: (chunks: AsyncIterable<Uint8Array>) => AsyncGenerator<T, void, undefined>,
  signal: AbortSignal | undefined,
  mapErr: (err: unknown) => unknown,
): DockerStream<T> {
  const reader = body.getReader();
  let closed = false;
  let iterated = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
  };
  const onAbort = () => void close();
  if (signal?.aborted) void close();
  else signal?.addEventListener("abort", onAbort, { once: true });

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    while (true) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        // An abort or close while waiting is the caller ending the stream, not a failure.
        if (closed || signal?.aborted) return;
        throw err;
      }
      if (r.done) return;
      yield r.value;
    }
  }

  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (iterated) throw new TypeError("A Docker stream can be iterated only once");
      iterated = true;
      const gen = decode(chunks());
      return {
        async next(): Promise<IteratorResult<T>> {
          if (closed) return { done: true, value: undefined };
          try {
            const r = await gen.next();
            if (r.done) await close();
            return r;
          } catch (err) {
            await close();
            if (signal?.aborted) return { done: true, value: undefined };
            throw mapErr(err);
          }
        },
        async return(): Promise<IteratorResult<T>> {
          await close();
          await gen.return(undefined).catch(() => {});
          return { done: true, value: undefined };
        },
      };
    },
    close,
  };
}
