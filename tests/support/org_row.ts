import type { Db } from "../../lib/db/mod.ts";

/** Inserts a bare organization row (for store-level tests that need its foreign key); its id. */
export async function insertOrg(db: Db, slug: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.insertInto("organizations").values({ id, slug, name: slug, created_at: 0 }).execute();
  return id;
}
