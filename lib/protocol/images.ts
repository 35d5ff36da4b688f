import * as z from "zod";
import { imageRef } from "../docker/validate.ts";

/**
 * Operations that move images between hosts (a build made on one worker, run on the others):
 * tag and push to a registry, or copy an image's archive from one engine to another through the
 * hub without a registry.
 *
 * The archive moves in calls, not in a stream, in both directions: a stream's chunks are dropped
 * when the agent's socket backs up (agent/session.ts), which would corrupt an archive, whereas a
 * call is answered before the next is asked, so the slower side sets the pace. A chunk carries
 * at most `IMAGE_CHUNK_BYTES` (base64, well below the 1 MiB frame).
 */

/** Largest archive piece in one `image.save_read` answer or `image.load_chunk` call. */
export const IMAGE_CHUNK_BYTES = 256 * 1024;

const Ref = z.string().superRefine((v, ctx) => {
  try {
    imageRef(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});
/** A repository without a tag, e.g. `127.0.0.1:5000/org/app`. */
const Repo = Ref.refine((v) => !/:[^/]*$/.test(v) && !v.includes("@"), "must not carry a tag");
const Tag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a tag like v1.2");
/** An id the hub picks for one transfer. */
const TransferId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8–64 of A-Z a-z 0-9 _ -");
const Seq = z.number().int().min(0).max(100_000_000);
const Chunk = z.string().max(Math.ceil(IMAGE_CHUNK_BYTES / 3) * 4).regex(
  /^[A-Za-z0-9+/]*={0,2}$/,
  "must be base64",
);
const oneLine = (max: number) =>
  z.string().max(max).refine((s) => !/[\r\n\0]/.test(s), "must be one line");

/** Image operations answered once. */
export const IMAGE_CALL_OPS = {
  /** Tags a local image: `{ source, repo, tag }` → `{ ref }` (repo:tag). */
  "image.tag": z.lazy(() => z.object({ source: Ref, repo: Repo, tag: Tag })),
  /**
   * Starts reading a local image's archive (`docker save`): → `{ download_id, image_id }`. The
   * agent closes a download nobody read for a minute.
   */
  "image.save_open": z.lazy(() => z.object({ ref: Ref })),
  /**
   * The next piece of a download: `seq` counts from 0; asking the last answered `seq` again
   * answers the same piece (a retry). → `{ seq, data (base64), last }`.
   */
  "image.save_read": z.lazy(() => z.object({ download_id: TransferId, seq: Seq })),
  /** Ends a download early: → `{ closed }`. */
  "image.save_close": z.lazy(() => z.object({ download_id: TransferId })),
  /**
   * One piece of an archive to load (`docker load`), in order from `seq` 0. The agent passes
   * each piece on to the engine before it answers; with `last` it answers what was loaded:
   * `{ image_id, refs }`, else `{ received }` (bytes so far).
   */
  "image.load_chunk": z.lazy(() =>
    z.object({
      upload_id: TransferId,
      seq: Seq,
      data: Chunk,
      last: z.boolean().default(false),
    })
  ),
} as const;

/** Image operations that stream. */
export const IMAGE_STREAM_OPS = {
  /**
   * Pushes an image whose reference names its registry; chunks are the engine's progress lines.
   * The credentials go to the engine only, never into a log, a chunk or an error.
   */
  "image.push": z.lazy(() =>
    z.object({
      ref: Ref.refine((v) => v.includes("/") && !v.startsWith("sha256:"), "must name a registry"),
      auth: z.object({
        username: oneLine(256),
        password: oneLine(4096),
        serveraddress: oneLine(512),
      }).optional(),
    })
  ),
} as const;
