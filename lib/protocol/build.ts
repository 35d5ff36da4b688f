import * as z from "zod";
import { DockerInputError, imageRef } from "../docker/validate.ts";

/**
 * The build operation of the closed list: the hub asks a worker's agent to clone a source and
 * build an image from it; the agent streams log lines and facts as they come and ends with the
 * image (or a failure with its class). The credentials travel in the params over the agent's
 * authenticated connection and exist on the worker only in a private temporary directory for
 * the length of the clone.
 */

const RelPath = z.string().max(1024).refine(
  (p) => p === "" || (!p.startsWith("/") && !p.split("/").includes("..") && !/[\0\r\n]/.test(p)),
  "must be a relative path inside the repository",
);
const OneLine = (max: number) =>
  z.string().max(max).refine((s) => !/[\0\r\n]/.test(s), "must be one line");

const Image = z.string().superRefine((v, ctx) => {
  try {
    imageRef(v);
  } catch (err) {
    ctx.addIssue({
      code: "custom",
      message: err instanceof DockerInputError ? err.message : String(err),
    });
  }
});

export const BuildRunParams = z.object({
  build_id: z.string().regex(/^[a-zA-Z0-9_-]{8,64}$/),
  source: z.object({
    url: z.string().min(1).max(2048).refine((u) => !/[\s\0]/.test(u) && !u.startsWith("-")),
    branch: z.string().min(1).max(255).refine((b) => !/[\s\0]/.test(b) && !b.startsWith("-")),
    commit: z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/).optional(),
    subdir: RelPath.default(""),
    build_file: RelPath.default(""),
    auth: z.discriminatedUnion("kind", [
      z.object({
        kind: z.literal("token"),
        username: OneLine(200).optional(),
        token: z.string().min(1).max(4096),
      }),
      z.object({
        kind: z.literal("ssh"),
        private_key: z.string().min(1).max(16_384),
        known_hosts: z.string().max(16_384).optional(),
      }),
    ]).optional(),
  }),
  builder: z.enum(["auto", "dockerfile", "nix"]).default("auto"),
  build_args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/), OneLine(4096))
    .refine((r) => Object.keys(r).length <= 64, "at most 64 build arguments").default({}),
  target: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/).optional(),
  /** The image to tag the result as. */
  tag: Image,
  labels: z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}$/), OneLine(1024))
    .default({}),
  /** Base images of generated Dockerfiles (detected plans), by kind. */
  base_images: z.record(z.string().max(32), Image).optional(),
  nix_cache_url: z.string().url().max(2048).optional(),
  limits: z.object({
    timeout_s: z.number().int().min(10).max(4 * 3600).default(1800),
    max_checkout_bytes: z.number().int().min(1024).max(2 ** 40).default(1024 ** 3),
    memory_bytes: z.number().int().min(64 * 1024 * 1024).max(2 ** 45).optional(),
  }).default({ timeout_s: 1800, max_checkout_bytes: 1024 ** 3 }),
});
export type BuildRunParams = z.input<typeof BuildRunParams>;

/** What a build stream sends, in order: log lines throughout, facts once known, one end. */
export type BuildChunk =
  | { kind: "log"; lines: string[] }
  | {
    kind: "source";
    commit: string;
    author: string;
    message: string;
    known_host?: { line: string; fingerprint: string };
  }
  | { kind: "plan"; builder: string; summary?: string; plan?: unknown; dockerfile?: string }
  | { kind: "done"; image_id: string; size_bytes: number }
  | { kind: "failed"; failure: string; message: string };

export const BUILD_STREAM_OPS = {
  "build.run": BuildRunParams,
} as const;
