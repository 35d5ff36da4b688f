/**
 * Release files on the hub: a verified release's files under `<dataDir>/agent-releases/<version>/`,
 * stored whole from local files or appended chunk by chunk through the API, each checked against
 * the manifest's size and SHA-256 before the release is ready.
 */
import { join } from "node:path";
import type { Db } from "../db/mod.ts";
import type { AgentReleasesTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, Invalid, NotFound, Rejected } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { parseManifest } from "../release_format/manifest.ts";
import { sha256OfBytes } from "../release_format/signing.ts";
import { verifyRelease } from "./verify.ts";

/** What the releases service needs. */
export interface ReleasesDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  dataDir: string;
  trustedKeys: () => readonly string[];
}

/** Release of a version that is not ready (or not there): 404 for callers. */
export const noRelease = (version: string) => new NotFound(`agent release ${version} not found`);

/** The release row of a version, if any. */
export async function releaseByVersion(
  db: Db,
  version: string,
): Promise<AgentReleasesTable | undefined> {
  return await db.selectFrom("agent_releases").selectAll().where("version", "=", version)
    .executeTakeFirst();
}

/** Publishing releases and their files; see the module comment. */
export function createReleaseFiles(deps: ReleasesDeps) {
  const { db, clock, audit } = deps;
  const root = join(deps.dataDir, "agent-releases");
  const dirOf = (version: string) => join(root, version);
  const verified = (manifestText: string, signature: string) =>
    verifyRelease(deps.trustedKeys(), manifestText, signature);

  async function insertRelease(
    ctx: ActionContext,
    manifestText: string,
    signature: string,
    key: string,
    status: AgentReleasesTable["status"],
    version: string,
  ) {
    if (await releaseByVersion(db, version)) {
      throw new Conflict(`Cannot publish agent release ${version}: that version exists already`);
    }
    const row: AgentReleasesTable = {
      id: uuidv7(clock.now()),
      version,
      manifest: manifestText,
      signature,
      key_id: key,
      status,
      created_by: ctx.actor.id ?? ctx.actor.name ?? null,
      created_at: clock.now(),
    };
    await db.insertInto("agent_releases").values(row).execute();
    return row;
  }

  const self = {
    /** Where a release's files are kept. */
    filePath(version: string, name: string): string {
      return join(dirOf(version), name);
    },

    /**
     * Stores a complete release from local files (`deno task admin publish-agent <dir>`): the
     * signature must verify and every file must match the manifest's size and SHA-256.
     */
    async publish(
      ctx: ActionContext,
      input: { manifestText: string; signature: string; paths: Map<string, string> },
    ) {
      const { manifest, keyId } = await verified(input.manifestText, input.signature);
      return await audit.run(ctx, "agent_release.published", {
        target: { type: "agent_release", name: manifest.version },
        metadata: { key_id: keyId, files: manifest.files.map((f) => f.name) },
      }, async () => {
        if (await releaseByVersion(db, manifest.version)) {
          throw new Conflict(
            `Cannot publish agent release ${manifest.version}: that version exists already`,
          );
        }
        const dir = dirOf(manifest.version);
        await Deno.mkdir(dir, { recursive: true });
        for (const f of manifest.files) {
          const src = input.paths.get(f.name);
          if (!src) throw new Invalid(`${f.name} is missing`);
          const bytes = await Deno.readFile(src);
          if (bytes.byteLength !== f.size || (await sha256OfBytes(bytes)) !== f.sha256) {
            throw new Rejected(
              `${f.name} does not match the manifest (size or SHA-256)`,
              "file_mismatch",
            );
          }
          await Deno.writeFile(join(dir, f.name), bytes, { mode: 0o644 });
        }
        return await insertRelease(
          ctx,
          input.manifestText,
          input.signature,
          keyId,
          "ready",
          manifest.version,
        );
      });
    },

    /** Starts an upload through the API: the signed manifest first; files follow in chunks. */
    async beginUpload(ctx: ActionContext, input: { manifestText: string; signature: string }) {
      const { manifest, keyId } = await verified(input.manifestText, input.signature);
      return await audit.run(ctx, "agent_release.upload_started", {
        target: { type: "agent_release", name: manifest.version },
        metadata: { key_id: keyId },
      }, async () => {
        await Deno.mkdir(dirOf(manifest.version), { recursive: true });
        return await insertRelease(
          ctx,
          input.manifestText,
          input.signature,
          keyId,
          "uploading",
          manifest.version,
        );
      });
    },

    /**
     * Appends one chunk of a release file at `offset` (chunks in order; a repeated chunk at the
     * current size is idempotent). A file that reaches its size is checked against the manifest;
     * the release becomes ready when all its files are there.
     */
    async uploadChunk(
      ctx: ActionContext,
      version: string,
      name: string,
      offset: number,
      bytes: Uint8Array<ArrayBuffer>,
    ): Promise<{ received: number; complete: boolean; release_ready: boolean }> {
      const rel = await releaseByVersion(db, version);
      if (!rel) throw noRelease(version);
      const manifest = parseManifest(rel.manifest);
      const file = manifest.files.find((f) => f.name === name);
      if (!file) throw new NotFound(`file ${name} in agent release ${version} not found`);
      const final = self.filePath(version, name);
      const partial = `${final}.partial`;
      const exists = (p: string) => Deno.stat(p).then((s) => s.size, () => undefined);
      if (rel.status === "ready" || await exists(final) !== undefined) {
        return { received: file.size, complete: true, release_ready: rel.status === "ready" };
      }
      const have = (await exists(partial)) ?? 0;
      if (offset !== have) {
        throw new Conflict(`Upload of ${name} continues at offset ${have}, not ${offset}`);
      }
      if (have + bytes.byteLength > file.size) {
        throw new Rejected(`${name} is larger than the manifest says`, "file_mismatch");
      }
      const f = await Deno.open(partial, { append: true, create: true, mode: 0o644 });
      try {
        let w = 0;
        while (w < bytes.byteLength) w += await f.write(bytes.subarray(w));
      } finally {
        f.close();
      }
      const received = have + bytes.byteLength;
      if (received < file.size) return { received, complete: false, release_ready: false };
      if ((await sha256OfBytes(await Deno.readFile(partial))) !== file.sha256) {
        await Deno.remove(partial);
        throw new Rejected(`${name} does not match the manifest's SHA-256`, "file_mismatch");
      }
      await Deno.rename(partial, final);
      const all = await Promise.all(
        manifest.files.map((x) => exists(self.filePath(version, x.name))),
      );
      const ready = all.every((s) => s !== undefined);
      if (ready) {
        await audit.run(ctx, "agent_release.published", {
          target: { type: "agent_release", id: rel.id, name: version },
          metadata: { key_id: rel.key_id, files: manifest.files.map((x) => x.name) },
        }, async () => {
          await db.updateTable("agent_releases").set({ status: "ready" }).where("id", "=", rel.id)
            .execute();
        });
      }
      return { received, complete: true, release_ready: ready };
    },
  };
  return self;
}
