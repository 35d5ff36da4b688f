import assert from "node:assert/strict";
import { join } from "node:path";
import { ensurePrivateDir, ensurePrivateSqliteFile } from "./private_files.ts";
import { openDatabase } from "./db/mod.ts";

const modeOf = (path: string) => (Deno.statSync(path).mode! & 0o777).toString(8);

Deno.test("ensurePrivateDir() creates the data dir 0700 and tightens an existing one", async () => {
  const root = await Deno.makeTempDir({ prefix: "capstan-private-" });
  try {
    const fresh = join(root, "a", "data");
    ensurePrivateDir(fresh);
    assert.equal(modeOf(fresh), "700");
    const old = join(root, "old");
    await Deno.mkdir(old, { mode: 0o755 });
    await Deno.chmod(old, 0o755);
    ensurePrivateDir(old);
    assert.equal(modeOf(old), "700");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openDatabase() keeps capstan.db and its -wal/-shm files 0600, also for an older 0644 file", async () => {
  const root = await Deno.makeTempDir({ prefix: "capstan-private-" });
  try {
    const path = join(root, "capstan.db");
    await Deno.writeFile(path, new Uint8Array(), { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const h = openDatabase(`sqlite:${path}`);
    await h.db.schema.createTable("t").addColumn("a", "integer").execute();
    await h.db.insertInto("t" as never).values({ a: 1 } as never).execute();
    const files = [...Deno.readDirSync(root)].map((e) => e.name).sort();
    assert.deepEqual(files, ["capstan.db", "capstan.db-shm", "capstan.db-wal"]);
    for (const f of files) assert.equal(modeOf(join(root, f)), "600", f);
    await h.close();
    ensurePrivateSqliteFile(join(root, "new.db"));
    assert.equal(modeOf(join(root, "new.db")), "600");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
