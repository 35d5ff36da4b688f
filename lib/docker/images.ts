import {
  type CallOptions,
  DockerError,
  type DockerStream,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { imageRef, splitImageRef } from "./validate.ts";
import { jsonLines } from "./streams.ts";
import { BuildFailure, classifyBuildLog } from "../builds/failure.ts";
import type {
  ImageDeleteItem,
  ImageInspect,
  ImagePruneResult,
  ImageSummary,
  PullProgress,
} from "./types.ts";

/** Options of `buildImage`: what the engine's `POST /build` takes, and where the log goes. */
export interface BuildImageOptions extends CallOptions {
  /** The tag of the result (`repo:tag`). */
  tag: string;
  /** The Dockerfile's path inside the context (default `Dockerfile`). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  /** The stage of a multi-stage Dockerfile to stop at. */
  target?: string;
  labels?: Record<string, string>;
  /** Memory limit of each build step's container, in bytes. */
  memoryBytes?: number;
  noCache?: boolean;
  /** Each line of the build's output, in order, without its newline. */
  onLog: (line: string) => void;
}

/** One JSON line of the build stream. */
interface BuildMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}

/** A log line longer than this is cut (a minified bundle echoed by a build step). */
const MAX_BUILD_LOG_LINE = 8 * 1024;
/** How many of the last log lines a failure carries, and the classifier reads. */
const FAILURE_TAIL_LINES = 40;
/** How long the engine may take to answer, on top of the client timeout: it reads the whole
 * context before it writes the first line. */
const BUILD_HEADERS_EXTRA_MS = 10 * 60_000;

/** Image calls: list, inspect, pull, build, remove, prune. */
export interface ImagesApi {
  /** Local images. */
  listImages(opts?: { all?: boolean; filters?: Filters } & CallOptions): Promise<ImageSummary[]>;
  /** One image by reference or id. */
  inspectImage(ref: string, opts?: CallOptions): Promise<ImageInspect>;
  /** Pulls an image, reporting progress lines; a failure in the stream is thrown. */
  pullImage(
    ref: string,
    onProgress?: (p: PullProgress) => void,
    opts?: CallOptions,
  ): Promise<void>;
  /**
   * Builds an image from a tar context with the engine's classic builder (`POST /build`),
   * streaming the log to `onLog`. A failed step throws `BuildFailure` classified from the log's
   * end, with the last lines in its message; an error of the context stream (a checkout too
   * large) is thrown as it is; an abort closes the connection, which makes the engine stop the
   * build and remove its step container, and throws the signal's reason.
   */
  buildImage(
    context: ReadableStream<Uint8Array>,
    opts: BuildImageOptions,
  ): Promise<{ imageId: string }>;
  /** Untags/deletes an image; 409 while a container uses it unless `force`. */
  removeImage(
    ref: string,
    opts?: { force?: boolean; noprune?: boolean } & CallOptions,
  ): Promise<ImageDeleteItem[]>;
  /** Deletes dangling images (optionally narrowed by filters). */
  pruneImages(opts?: { dangling?: boolean; filters?: Filters } & CallOptions): Promise<
    ImagePruneResult
  >;
}

/** The image calls over one transport. */
export function imagesApi(t: EngineTransport): ImagesApi {
  return {
    listImages: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/images/json",
        query: { all: opts.all, filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    inspectImage: async (ref, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/images/${enc(imageRef(ref))}/json`,
        signal: opts.signal,
      }),
    async pullImage(ref, onProgress, opts = {}) {
      const { name, tag } = splitImageRef(imageRef(ref));
      let stream: DockerStream<PullProgress>;
      try {
        stream = await t.stream(
          {
            method: "POST",
            path: "/images/create",
            query: { fromImage: name, tag },
            signal: opts.signal,
          },
          (chunks) => jsonLines<PullProgress>(chunks),
        );
      } catch (err) {
        // The engine's message names the registry URL but not the image the user asked for.
        if (err instanceof DockerError) {
          throw new DockerError(err.status, `Cannot pull ${ref}: ${err.message}`, { cause: err });
        }
        throw err;
      }
      try {
        for await (const p of stream) {
          // A failed pull still answers 200; the failure is an error object inside the stream.
          if (p.error || p.errorDetail?.message) {
            throw new DockerError(500, `Cannot pull ${ref}: ${p.errorDetail?.message ?? p.error}`);
          }
          onProgress?.(p);
        }
      } finally {
        await stream.close();
      }
      // Closing the connection cancels the pull in the engine, so a caller abort must not look
      // like success.
      if (opts.signal?.aborted) throw opts.signal.reason;
    },
    buildImage: (context, opts) => buildImage(t, context, opts),
    removeImage: async (ref, opts = {}) =>
      await t.json({
        method: "DELETE",
        path: `/images/${enc(imageRef(ref))}`,
        query: { force: opts.force, noprune: opts.noprune },
        signal: opts.signal,
      }),
    pruneImages: async (opts = {}) => {
      const filters: Filters = { ...opts.filters, dangling: [String(opts.dangling ?? true)] };
      return await t.json({
        method: "POST",
        path: "/images/prune",
        query: { filters: filtersParam(filters) },
        signal: opts.signal,
        extraMs: 60_000,
      });
    },
  };
}

/** Passes a stream through, keeping the error it fails with (fetch reports only its own). */
function recordingErrors(
  source: ReadableStream<Uint8Array>,
): { stream: ReadableStream<Uint8Array>; error: () => unknown } {
  let failed: unknown;
  const reader = source.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const r = await reader.read();
        if (r.done) ctl.close();
        else ctl.enqueue(r.value);
      } catch (err) {
        failed = err;
        ctl.error(err);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, error: () => failed };
}

/** Splits the builder's `stream` text (pieces of lines) into whole lines. */
class BuildLog {
  #partial = "";
  readonly #tail: string[] = [];
  constructor(readonly onLog: (line: string) => void) {}

  /** Adds text that may end inside a line. */
  text(piece: string): void {
    const parts = (this.#partial + piece).split("\n");
    this.#partial = parts.pop() ?? "";
    if (this.#partial.length > MAX_BUILD_LOG_LINE) {
      this.#line(this.#partial);
      this.#partial = "";
    }
    for (const line of parts) this.#line(line);
  }

  /** Emits what is left of an unfinished line. */
  flush(): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = "";
  }

  /** The last lines, for the failure's message and its class. */
  tail(): string {
    return this.#tail.join("\n");
  }

  #line(raw: string): void {
    const line = raw.replace(/\r$/, "").slice(0, MAX_BUILD_LOG_LINE);
    this.#tail.push(line);
    if (this.#tail.length > FAILURE_TAIL_LINES) this.#tail.shift();
    this.onLog(line);
  }
}

/** A build's failure from the error the engine reported and the log before it. */
function buildFailure(error: string, log: BuildLog): BuildFailure {
  const tail = log.tail();
  const cls = classifyBuildLog(`${tail}\n${error}`);
  return new BuildFailure(cls, tail ? `${error}\n--- last lines of the log ---\n${tail}` : error);
}

async function buildImage(
  t: EngineTransport,
  context: ReadableStream<Uint8Array>,
  opts: BuildImageOptions,
): Promise<{ imageId: string }> {
  const json = (o: Record<string, string> | undefined) =>
    o && Object.keys(o).length ? JSON.stringify(o) : undefined;
  const upload = recordingErrors(context);
  const log = new BuildLog(opts.onLog);
  const fail = (err: unknown): never => {
    // The context's own failure (too large, unreadable) explains more than a broken upload.
    const ctxErr = upload.error();
    if (ctxErr) throw ctxErr;
    if (opts.signal?.aborted) throw opts.signal.reason;
    // The classic builder answers a Dockerfile it cannot parse with an error status.
    if (err instanceof DockerError && (err.status === 400 || err.status === 500)) {
      throw buildFailure(err.message, log);
    }
    throw err;
  };
  let stream: DockerStream<BuildMessage>;
  try {
    stream = await t.stream(
      {
        method: "POST",
        path: "/build",
        query: {
          t: imageRef(opts.tag),
          dockerfile: opts.dockerfile,
          buildargs: json(opts.buildArgs),
          target: opts.target,
          labels: json(opts.labels),
          memory: opts.memoryBytes,
          nocache: opts.noCache,
          // Intermediate containers go, also after a failed step: a builder must not fill up.
          rm: true,
          forcerm: true,
        },
        upload: { stream: upload.stream, contentType: "application/x-tar" },
        signal: opts.signal,
        extraMs: BUILD_HEADERS_EXTRA_MS,
      },
      (chunks) => jsonLines<BuildMessage>(chunks),
    );
  } catch (err) {
    return fail(err);
  }
  let imageId: string | undefined;
  try {
    for await (const m of stream) {
      if (m.stream !== undefined) log.text(m.stream);
      else if (m.status !== undefined) {
        log.text(`${m.id ? `${m.id}: ` : ""}${m.status}${m.progress ? ` ${m.progress}` : ""}\n`);
      }
      if (m.aux?.ID) imageId = m.aux.ID;
      // A failed step still answers 200: the failure is an error object inside the stream.
      if (m.error || m.errorDetail?.message) {
        log.flush();
        throw buildFailure(m.errorDetail?.message ?? m.error ?? "build failed", log);
      }
    }
  } catch (err) {
    if (err instanceof BuildFailure) throw err;
    return fail(err);
  } finally {
    log.flush();
    await stream.close();
  }
  if (opts.signal?.aborted) throw opts.signal.reason;
  if (!imageId) {
    // Older engines only say it in words.
    const m = /Successfully built ([0-9a-f]{12,64})/.exec(log.tail());
    if (!m) throw new DockerError(502, `The build of ${opts.tag} ended without an image id`);
    imageId = m[1];
  }
  return { imageId };
}
