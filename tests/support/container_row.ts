import type { Db } from "../../lib/db/mod.ts";

/**
 * Inserts a running container into the hub's container cache as an agent's snapshot would (for
 * tests of modules that read the cache: its labels, its host), the rest of its columns dummies.
 */
export async function insertContainerRow(
  db: Db,
  row: { host_id: string; org_id: string; id: string; name: string; labels?: string },
): Promise<void> {
  await db.insertInto("containers").values({
    image: "x",
    image_id: "x",
    command: "",
    state: "running",
    status: "Up",
    created: 0,
    labels: "{}",
    ports: "[]",
    updated_at: 0,
    ...row,
  }).execute();
}
