/**
 * What the snapshot tests share: the wait for a snapshot or restore to end through the storage
 * API (the files of a volume and their manifest: volume_files.ts).
 */
import assert from "node:assert/strict";
import { eventually } from "../../lib/docker/testing.ts";

/** A viewer's GET through the API: status and parsed body. */
// deno-lint-ignore no-explicit-any
export type ApiGet = (path: string) => Promise<{ status: number; body: any }>;

/** Waits for a snapshot or restore of org `slug` to end (5 minutes at most); answers it. */
export function storageRunEnded(
  get: ApiGet,
  kind: "snapshots" | "restores",
  id: string,
  slug = "acme",
) {
  return eventually(
    async () => {
      const g = await get(`/api/v1/orgs/${slug}/storage/${kind}/${id}`);
      assert.equal(g.status, 200);
      return g.body.status === "running" ? undefined : g.body;
    },
    `${kind} ${id} to end`,
    300_000,
  );
}
