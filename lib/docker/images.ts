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
import type {
  ImageDeleteItem,
  ImageInspect,
  ImagePruneResult,
  ImageSummary,
  PullProgress,
} from "./types.ts";

/** Image calls: list, inspect, pull, remove, prune. */
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
