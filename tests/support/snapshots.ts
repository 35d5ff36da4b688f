/**
 * What the snapshot tests share: a manifest of a volume's files (to compare a restore with what
 * was snapshotted) and the wait for a snapshot or restore to end through the storage API.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually } from "../../lib/docker/testing.ts";

/** Every regular file under `dir` (relative path → sha-256 hex), and symlinks by target. */
export async function manifest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else if (e.isSymlink) out[p] = `-> ${await Deno.readLink(join(dir, p))}`;
      else {
        const data = await Deno.readFile(join(dir, p));
        const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
        out[p] = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
      }
    }
  }
  await walk("");
  return out;
}

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
