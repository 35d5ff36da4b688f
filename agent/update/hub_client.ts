import { CurrentRelease, type OutcomeReport } from "../../lib/protocol/release.ts";
import type { ManifestFile } from "../../lib/release_format/manifest.ts";

/** Talks to the hub's release API with the host token. */
export interface ReleaseClient {
  current(arch: string): Promise<CurrentRelease["release"]>;
  /** Streams a release file to `path` (bounded by the manifest's size); resolves with size and SHA-256. */
  download(
    version: string,
    file: ManifestFile,
    path: string,
  ): Promise<{ size: number; sha256: string }>;
  report(r: OutcomeReport): Promise<void>;
}

/** A download that does not match its manifest. */
export class DownloadRejected extends Error {}

/** The release API of `hubUrl`, with the token read fresh for each call (it may be rotated). */
export function releaseClient(
  hubUrl: string,
  token: () => Promise<string | undefined>,
  fetchFn: typeof fetch = fetch,
): ReleaseClient {
  async function headers() {
    const t = await token();
    if (!t) throw new Error("no host token yet");
    return { authorization: `Bearer ${t}` };
  }
  async function ok(res: Response, what: string) {
    if (res.ok) return res;
    await res.body?.cancel();
    throw new Error(`${what}: hub answered ${res.status}`);
  }
  return {
    async current(arch) {
      const res = await ok(
        await fetchFn(
          `${hubUrl}/api/v1/agent/releases/current?arch=${encodeURIComponent(arch)}`,
          { headers: await headers(), signal: AbortSignal.timeout(30_000) },
        ),
        "release check",
      );
      return CurrentRelease.parse(await res.json()).release;
    },
    async download(version, file, path) {
      const res = await ok(
        await fetchFn(
          `${hubUrl}/api/v1/agent/releases/${encodeURIComponent(version)}/files/${
            encodeURIComponent(file.name)
          }`,
          { headers: await headers(), signal: AbortSignal.timeout(30 * 60_000) },
        ),
        "download",
      );
      // Loaded here, not at start: a `node:` import starts Deno's Node layer (MBs in every agent).
      const { createHash } = await import("node:crypto");
      const hash = createHash("sha256");
      let size = 0;
      using out = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        // Never more than the manifest promised: a hub (or proxy) cannot fill the disk.
        if (size > file.size) {
          throw new DownloadRejected(`download is larger than the manifest's ${file.size} bytes`);
        }
        hash.update(chunk);
        let written = 0;
        while (written < chunk.byteLength) written += await out.write(chunk.subarray(written));
      }
      return { size, sha256: hash.digest("hex") };
    },
    async report(r) {
      await ok(
        await fetchFn(`${hubUrl}/api/v1/agent/releases/outcome`, {
          method: "POST",
          headers: { ...await headers(), "content-type": "application/json" },
          body: JSON.stringify(r),
          signal: AbortSignal.timeout(30_000),
        }),
        "outcome report",
      );
    },
  };
}
