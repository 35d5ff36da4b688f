import { basename, join } from "node:path";
import { type Manifest, parseManifest, type Target, TARGETS } from "../release_format/manifest.ts";
import { sha256OfBytes, signBytes } from "../release_format/signing.ts";

/** Names of the manifest and its detached signature inside a release directory. */
export const MANIFEST_FILE = "manifest.json";
export const SIGNATURE_FILE = "manifest.json.sig";

/**
 * Writes `manifest.json` for the given built files (hashing each) and, with a private key, the
 * detached signature `manifest.json.sig` (base64 Ed25519 over the manifest's exact bytes).
 */
export async function writeReleaseManifest(
  dir: string,
  version: string,
  files: { path: string; target: Target }[],
  privateKey?: string,
): Promise<{ manifest: Manifest; text: string; signed: boolean }> {
  const entries = [];
  for (const f of files) {
    const bytes = await Deno.readFile(f.path);
    entries.push({
      name: basename(f.path),
      target: f.target,
      arch: TARGETS[f.target],
      sha256: await sha256OfBytes(bytes),
      size: bytes.byteLength,
    });
  }
  const text = JSON.stringify(
    {
      format: 1,
      product: "capstan-agent",
      version,
      created_at: new Date().toISOString(),
      files: entries,
    },
    null,
    2,
  ) + "\n";
  const manifest = parseManifest(text);
  await Deno.writeTextFile(join(dir, MANIFEST_FILE), text);
  if (privateKey) {
    const sig = await signBytes(privateKey, new TextEncoder().encode(text));
    await Deno.writeTextFile(join(dir, SIGNATURE_FILE), sig + "\n");
  }
  return { manifest, text, signed: Boolean(privateKey) };
}

/** A release directory as read from disk: the manifest text, its signature and the files' paths. */
export interface ReleaseDir {
  manifestText: string;
  manifest: Manifest;
  signature: string;
  /** Absolute path of each manifest file, by name. */
  paths: Map<string, string>;
}

/** Reads a release directory; throws with one line naming what is missing. */
export async function readReleaseDir(dir: string): Promise<ReleaseDir> {
  const read = async (name: string) => {
    try {
      return await Deno.readTextFile(join(dir, name));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new Error(`${join(dir, name)} is missing`);
      throw err;
    }
  };
  const manifestText = await read(MANIFEST_FILE);
  const signature = (await read(SIGNATURE_FILE)).trim();
  const manifest = parseManifest(manifestText);
  const paths = new Map<string, string>();
  for (const f of manifest.files) paths.set(f.name, join(dir, f.name));
  return { manifestText, manifest, signature, paths };
}
