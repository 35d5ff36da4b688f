/**
 * Agent releases on the hub: signed manifests (verified against the trusted keys before anything
 * is stored, verify.ts), their files (files.ts), staged rollouts and the update outcomes agents
 * report, which halt a rollout that fails too often (staged_rollouts.ts).
 */
import { parseManifest } from "../release_format/manifest.ts";
import { createReleaseFiles, type ReleasesDeps } from "./files.ts";
import { createStagedRollouts } from "./staged_rollouts.ts";

/** Largest upload chunk (the hub's request body limit is 1 MiB; base64 is not used). */
export const MAX_CHUNK_BYTES = 512 * 1024;

/** Creates the releases service; see the module comment. */
export function createReleases(deps: ReleasesDeps) {
  const { db } = deps;
  const files = createReleaseFiles(deps);
  const rollouts = createStagedRollouts(deps);
  return {
    ...files,
    ...rollouts,

    /** Releases, newest first, with their rollouts. */
    async list(limit = 50) {
      const rels = await db.selectFrom("agent_releases").selectAll().orderBy("created_at", "desc")
        .limit(limit).execute();
      const all = await db.selectFrom("agent_rollouts").selectAll()
        .orderBy("created_at", "desc").limit(200).execute();
      return await Promise.all(rels.map(async (r) => ({
        id: r.id,
        version: r.version,
        status: r.status,
        key_id: r.key_id,
        created_at: r.created_at,
        files: parseManifest(r.manifest).files,
        rollouts: await Promise.all(
          all.filter((o) => o.release_id === r.id).map((o) => rollouts.view(o, r.version)),
        ),
      })));
    },
  };
}
export type Releases = ReturnType<typeof createReleases>;
