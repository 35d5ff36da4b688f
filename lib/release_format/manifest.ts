import * as z from "zod";

/**
 * The signed description of one agent release: its version and, per file, the target it runs on,
 * its SHA-256 and its size. The signature covers the manifest's exact bytes, so the text is kept
 * and passed around as it was written (never re-serialised before verifying).
 *
 * This folder (lib/release_format: manifest, signatures, version order) is the release code the
 * agent imports to verify an update (DESIGN §2), so it stays free of the database and features.
 */

/** Semantic version without build metadata: 1.2.3 or 1.2.3-rc.1. */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z.-]{1,40})?$/;
export const SemVer = z.string().max(64).regex(SEMVER_PATTERN, "must be a version like 1.2.3");

/** Targets `deno compile` builds the agent for, with the `uname -m` name of each. */
export const TARGETS = {
  "x86_64-unknown-linux-gnu": "x86_64",
  "aarch64-unknown-linux-gnu": "aarch64",
} as const;
export type Target = keyof typeof TARGETS;

/** A file name inside a release: no path separators, no leading dot. */
export const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const FileName = z.string().regex(
  FILE_NAME_PATTERN,
  "letters, digits and . _ -, no slashes",
);

export const ManifestFile = z.object({
  name: FileName,
  target: z.enum(Object.keys(TARGETS) as [Target, ...Target[]]),
  arch: z.enum(["x86_64", "aarch64"]),
  sha256: z.string().regex(/^[a-f0-9]{64}$/, "must be 64 lowercase hex digits"),
  size: z.number().int().min(1).max(1024 * 1024 * 1024),
});
export type ManifestFile = z.infer<typeof ManifestFile>;

export const Manifest = z.object({
  format: z.literal(1),
  product: z.literal("capstan-agent"),
  version: SemVer,
  created_at: z.string().max(40),
  files: z.array(ManifestFile).min(1).max(16).refine(
    (fs) => new Set(fs.map((f) => f.name)).size === fs.length,
    "file names must be unique",
  ),
});
export type Manifest = z.infer<typeof Manifest>;

/** Largest manifest text accepted (a handful of files fits in a few hundred bytes). */
export const MAX_MANIFEST_BYTES = 64 * 1024;

/** Thrown when a manifest does not parse or does not match its schema. */
export class ManifestError extends Error {}

/** Parses manifest text; throws ManifestError naming the first problem. */
export function parseManifest(text: string): Manifest {
  if (text.length > MAX_MANIFEST_BYTES) throw new ManifestError("manifest is too large");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError("manifest is not JSON");
  }
  const r = Manifest.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ManifestError(`manifest ${i.path.join(".") || "value"}: ${i.message}`);
  }
  return r.data;
}

/** The file of a manifest that runs on `arch` (`uname -m` style), if any. */
export function fileFor(m: Manifest, arch: string): ManifestFile | undefined {
  const a = arch === "arm64" ? "aarch64" : arch;
  return m.files.find((f) => f.arch === a);
}

/** The release file name for a version and target, e.g. capstan-agent-0.1.0-x86_64-unknown-linux-gnu. */
export function releaseFileName(version: string, target: Target): string {
  return `capstan-agent-${version}-${target}`;
}
