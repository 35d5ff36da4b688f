import assert from "node:assert/strict";
import { join } from "node:path";
import {
  generateSecretKey,
  openHubKeyRing,
  parseKeyFile,
  SECRET_KEY_FILE,
  writeKeyFile,
} from "./secret_key.ts";
import { createSecretBox, SecretDecryptError } from "./crypto/secrets.ts";

async function tempDir() {
  return await Deno.makeTempDir({ prefix: "capstan-keys-" });
}

const idOf = async (key: string) => (await createSecretBox(key)).keyId;

Deno.test("openHubKeyRing() generates the key file (0600) on first start and reads it after", async () => {
  const dir = await tempDir();
  try {
    const first = await openHubKeyRing({ dataDir: dir });
    assert.deepEqual(first.source, {
      kind: "file",
      path: join(dir, SECRET_KEY_FILE),
      generated: true,
    });
    assert.equal((await Deno.stat(join(dir, SECRET_KEY_FILE))).mode! & 0o777, 0o600);
    const again = await openHubKeyRing({ dataDir: dir });
    assert.equal(again.keyId, first.keyId);
    assert.equal(again.source.kind === "file" && again.source.generated, false);
    const blob = await first.encrypt("hunter2", "c");
    assert.equal(await again.decrypt(blob, "c"), "hunter2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openHubKeyRing() with create: false never makes a key", async () => {
  const dir = await tempDir();
  try {
    await assert.rejects(openHubKeyRing({ dataDir: dir, create: false }), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(join(dir, SECRET_KEY_FILE)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openHubKeyRing() key file: the first line encrypts, further lines only decrypt", async () => {
  const dir = await tempDir();
  try {
    const [a, b, c] = [generateSecretKey(), generateSecretKey(), generateSecretKey()];
    const underB = await (await createSecretBox(b)).encrypt("from b", "x");
    const underC = await (await createSecretBox(c)).encrypt("from c", "x");
    await Deno.writeTextFile(join(dir, SECRET_KEY_FILE), `${a}\n\n${b}\n`);
    // CAPSTAN_SECRET_KEY_PREVIOUS adds to the file's keys.
    const ring = await openHubKeyRing({ dataDir: dir, previousKeys: [c] });
    assert.equal(ring.keyId, await idOf(a));
    assert.deepEqual(ring.keyIds, [await idOf(a), await idOf(b), await idOf(c)]);
    assert.equal(await ring.decrypt(underB, "x"), "from b");
    assert.equal(await ring.decrypt(underC, "x"), "from c");
    const fresh = await ring.encrypt("new", "x");
    assert.equal(await (await createSecretBox(a)).decrypt(fresh, "x"), "new");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openHubKeyRing() from the environment ignores the key file", async () => {
  const dir = await tempDir();
  try {
    const [env, old] = [generateSecretKey(), generateSecretKey()];
    await Deno.writeTextFile(join(dir, SECRET_KEY_FILE), generateSecretKey() + "\n");
    const ring = await openHubKeyRing({ dataDir: dir, secretKey: env, previousKeys: [old] });
    assert.deepEqual(ring.source, { kind: "env" });
    assert.deepEqual(ring.keyIds, [await idOf(env), await idOf(old)]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseKeyFile() names the bad line and its file, never the line's text", () => {
  const good = generateSecretKey();
  assert.deepEqual(parseKeyFile(`${good}\n`, "/d/secret-key"), [good]);
  assert.throws(
    () => parseKeyFile(`${good}\nhunter2-not-a-key\n`, "/d/secret-key"),
    (e: Error) => {
      assert.match(e.message, /^\/d\/secret-key line 2 is not a key/);
      assert.ok(!e.message.includes("hunter2"));
      return true;
    },
  );
  assert.throws(() => parseKeyFile("\n\n", "/d/secret-key"), /holds no key/);
});

Deno.test("writeKeyFile() replaces the file atomically with mode 0600", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, SECRET_KEY_FILE);
    await Deno.writeTextFile(path, "old\n", { mode: 0o644 });
    await writeKeyFile(path, ["k1", "k2"]);
    assert.equal(await Deno.readTextFile(path), "k1\nk2\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [SECRET_KEY_FILE]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openHubKeyRing() follows a replaced key file: on the next check, and at once for an unknown key", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, SECRET_KEY_FILE);
    const [a, b] = [generateSecretKey(), generateSecretKey()];
    await Deno.writeTextFile(path, `${a}\n`);
    let now = 0;
    const ring = await openHubKeyRing({ dataDir: dir, recheckMs: 1000, now: () => now });
    // Another process (the rotation) reads the new file and writes under b.
    await writeKeyFile(path, [b, a]);
    const underB = await (await createSecretBox(b, [a])).encrypt("rotated", "x");
    // Before the next check the ring still encrypts under a …
    assert.equal(ring.keyId, await idOf(a));
    const early = await ring.encrypt("early", "x");
    assert.equal(await (await createSecretBox(a)).decrypt(early, "x"), "early");
    // … but a blob under the unknown key b makes it look at once.
    assert.equal(await ring.decrypt(underB, "x"), "rotated");
    assert.equal(ring.keyId, await idOf(b));

    // A later change is taken on the first use once recheckMs has passed.
    const c = generateSecretKey();
    await writeKeyFile(path, [c, b, a]);
    now += 999;
    await ring.encrypt("x", "x");
    assert.equal(ring.keyId, await idOf(b));
    now += 1;
    const late = await ring.encrypt("late", "x");
    assert.equal(ring.keyId, await idOf(c));
    assert.equal(await (await createSecretBox(c)).decrypt(late, "x"), "late");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openHubKeyRing() keeps its keys when the key file turns unreadable, and says so", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, SECRET_KEY_FILE);
    const a = generateSecretKey();
    await Deno.writeTextFile(path, `${a}\n`);
    const errors: string[] = [];
    const ring = await openHubKeyRing({
      dataDir: dir,
      recheckMs: 0,
      onReloadError: (e) => errors.push(e.message),
    });
    const blob = await ring.encrypt("kept", "x");
    await writeKeyFile(path, ["not-a-key"]);
    assert.equal(await ring.decrypt(blob, "x"), "kept");
    assert.equal(ring.keyId, await idOf(a));
    assert.match(errors[0], /line 1 is not a key/);
    // A blob under a key nobody has still fails closed.
    const other = await (await createSecretBox(generateSecretKey())).encrypt("no", "x");
    await assert.rejects(ring.decrypt(other, "x"), SecretDecryptError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
