/**
 * Key rotation of the hub's key-encryption key, end to end on both dialects, with the admin task
 * as a subprocess (as an operator runs it) next to hubs:
 * - keys in the environment: CAPSTAN_SECRET_KEY=new with CAPSTAN_SECRET_KEY_PREVIOUS=old, then
 *   `rotate-secret-key` re-wraps every secret version and channel config; afterwards a hub with
 *   ONLY the new key starts and reads them all, and a hub with a wrong key refuses to start with
 *   one line naming the key id (never a key);
 * - a key file: `rotate-secret-key --generate` while a hub runs; the hub takes the new key without
 *   a restart, `--check` counts, `--drop-previous` leaves the new key alone;
 * - a tampered blob fails closed naming the secret and version, never the value.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dbUrlTest } from "./support/db.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { assertSeededReadable, seedEncrypted, VALUE } from "./support/encrypted_seed.ts";
import { startTestHub } from "./support/hub.ts";
import { loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices, type Services } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { generateSecretKey, SECRET_KEY_FILE } from "../lib/secret_key.ts";
import { createSecretBox, SecretDecryptError } from "../lib/crypto/secrets.ts";
import { StartupError } from "../lib/startup_error.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Runs `deno task admin …` as a subprocess; its exit code and output. */
async function admin(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/admin.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Services on the database at `url` under `env`, as a hub builds them, closed after `fn`. */
async function withServices<T>(
  env: Record<string, string>,
  fn: (s: Services) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ CAPSTAN_PUBLIC_URL: "http://hub.test", ...env });
  const dbh = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(dbh.db);
    return await fn(createServices({ config, dbh, bus: createMemoryBus() }));
  } finally {
    await dbh.close();
  }
}

const keyIdOf = async (key: string) => (await createSecretBox(key)).keyId;

dbUrlTest(
  "[e2e] rotate-secret-key with CAPSTAN_SECRET_KEY: re-wraps every data key; the new key alone starts and reads; a wrong key fails at start",
  async ({ url }) => {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-rotate-" });
    const [OLD, NEW, WRONG] = [generateSecretKey(), generateSecretKey(), generateSecretKey()];
    const env = (keys: Record<string, string>) => ({
      CAPSTAN_DATA_DIR: dataDir,
      DATABASE_URL: url,
      CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      ...keys,
    });
    try {
      const { orgId, channelId } = await withServices(
        env({ CAPSTAN_SECRET_KEY: OLD }),
        seedEncrypted,
      );

      // Step 1: the hubs run with the new key and the old one as previous; the task re-wraps.
      const ring = env({ CAPSTAN_SECRET_KEY: NEW, CAPSTAN_SECRET_KEY_PREVIOUS: OLD });
      let r = await admin(["rotate-secret-key"], ring);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 6), [
        "alert_channels: 1 re-wrapped, 0 already current",
        "secret_versions: 3 re-wrapped, 0 already current",
        "build_sources: 1 re-wrapped, 0 already current",
        "build_hooks: 1 re-wrapped, 0 already current",
        "storage_targets: 1 re-wrapped, 0 already current",
        "nas_targets: 1 re-wrapped, 0 already current",
      ]);
      assert.match(
        lines[6],
        new RegExp(
          `^every encrypted value is under key ${await keyIdOf(
            NEW,
          )}; the previous keys may be dropped \\(unset CAPSTAN_SECRET_KEY_PREVIOUS`,
        ),
      );
      for (const k of [OLD, NEW]) assert.ok(!(r.stdout + r.stderr).includes(k));

      // Idempotent: a second run finds everything current.
      r = await admin(["rotate-secret-key"], ring);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^alert_channels: 0 re-wrapped, 1 already current$/m);
      assert.match(r.stdout, /^secret_versions: 0 re-wrapped, 3 already current$/m);

      r = await admin(["rotate-secret-key", "--check"], env({ CAPSTAN_SECRET_KEY: NEW }));
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`^secret_versions: 3 under key ${await keyIdOf(NEW)} \\(current\\)$`, "m"),
      );

      // Audited as the system, counts only.
      await withServices(env({ CAPSTAN_SECRET_KEY: NEW }), async (s) => {
        const rows = await s.db.selectFrom("audit_log").selectAll()
          .where("action", "=", "secret_key.rotate").orderBy("id").execute();
        assert.equal(rows.length, 2);
        assert.equal(rows[0].actor_type, "system");
        assert.equal(rows[0].status, "ok");
        const meta = JSON.parse(rows[0].metadata);
        assert.deepEqual(
          [meta.rewrapped, meta.already_current, meta.failed, meta.left],
          [8, 0, 0, 0],
        );
        assert.ok(!rows[0].metadata.includes(VALUE) && !rows[0].metadata.includes(NEW));
      });

      // Step 2: the previous key is dropped; a hub with only the new key starts and reads all.
      const hub = await startTestHub(dataDir, {
        DATABASE_URL: url,
        CAPSTAN_SECRET_KEY: NEW,
        CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      });
      try {
        await assertSeededReadable(hub.services, orgId, channelId);
      } finally {
        await hub.stop();
      }

      // A hub with the old key, or any other, refuses to start naming the key id it needs.
      const newId = await keyIdOf(NEW);
      for (const key of [OLD, WRONG]) {
        const id = await keyIdOf(key);
        await assert.rejects(
          startTestHub(dataDir, { DATABASE_URL: url, CAPSTAN_SECRET_KEY: key }),
          (e: Error) => {
            assert.ok(e instanceof StartupError, String(e));
            assert.equal(
              e.message,
              `secrets: the database holds secrets encrypted with key id ${newId} (1 in alert_channels, 3 in secret_versions, 1 in build_sources, 1 in build_hooks, 1 in storage_targets, 1 in nas_targets), ` +
                `which CAPSTAN_SECRET_KEY is not (it is key id ${id}); ` +
                `start with that key (CAPSTAN_SECRET_KEY, or the first line of the data dir's secret-key file)`,
            );
            for (const k of [OLD, NEW, WRONG]) assert.ok(!e.message.includes(k));
            return true;
          },
        );
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

dbUrlTest(
  "[e2e] rotate-secret-key --generate with a key file: a running hub takes the new key without a restart",
  async ({ url }) => {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-rotate-" });
    const env = { CAPSTAN_DATA_DIR: dataDir, DATABASE_URL: url };
    const keyFile = join(dataDir, SECRET_KEY_FILE);
    try {
      const hub = await startTestHub(dataDir, {
        DATABASE_URL: url,
        CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      });
      try {
        const { orgId, channelId } = await seedEncrypted(hub.services);
        const [oldKey] = (await Deno.readTextFile(keyFile)).trim().split("\n");
        const oldId = await keyIdOf(oldKey);

        const r = await admin(["rotate-secret-key", "--generate"], env);
        assert.equal(r.code, 0, r.stderr);
        const keys = (await Deno.readTextFile(keyFile)).trim().split("\n");
        assert.equal(keys.length, 2);
        assert.equal(keys[1], oldKey, "the old key stays as a previous key");
        assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
        const newId = await keyIdOf(keys[0]);
        assert.match(r.stdout, new RegExp(`new key ${newId} written first`));
        assert.match(r.stdout, /^alert_channels: 1 re-wrapped, 0 already current$/m);
        assert.match(r.stdout, /^secret_versions: 3 re-wrapped, 0 already current$/m);
        assert.match(
          r.stdout,
          /previous keys may be dropped \(rotate-secret-key --drop-previous\)/,
        );
        for (const k of keys) assert.ok(!(r.stdout + r.stderr).includes(k));

        // The running hub reads the re-wrapped values and writes new ones under the new key.
        await assertSeededReadable(hub.services, orgId, channelId);
        await hub.services.secrets.create({ ctx: SYSTEM_CTX, orgId }, {
          name: "LATER",
          value: "x",
        });
        const later = await hub.services.secrets.get(orgId, "LATER");
        assert.equal(later.versions[0].key_id, newId);

        let check = await admin(["rotate-secret-key", "--check"], env);
        assert.equal(check.code, 0, check.stderr);
        assert.match(
          check.stdout,
          new RegExp(`^key ring: current ${newId}; previous ${oldId}$`, "m"),
        );
        assert.match(
          check.stdout,
          new RegExp(`^secret_versions: 4 under key ${newId} \\(current\\)$`, "m"),
        );

        check = await admin(["rotate-secret-key", "--drop-previous"], env);
        assert.equal(check.code, 0, check.stderr);
        assert.deepEqual((await Deno.readTextFile(keyFile)).trim().split("\n"), [keys[0]]);
        await assertSeededReadable(hub.services, orgId, channelId);
      } finally {
        await hub.stop();
      }
      // A restart with the file's one key passes the start-up check.
      const again = await startTestHub(dataDir, { DATABASE_URL: url });
      await again.stop();
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

dbUrlTest(
  "[e2e] rotate-secret-key refuses what it cannot do: unknown keys, a missing key file, --generate with CAPSTAN_SECRET_KEY",
  async ({ url }) => {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-rotate-" });
    const [OLD, NEW] = [generateSecretKey(), generateSecretKey()];
    const env = {
      CAPSTAN_DATA_DIR: dataDir,
      DATABASE_URL: url,
      CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    };
    try {
      await withServices({ ...env, CAPSTAN_SECRET_KEY: OLD }, seedEncrypted);
      // The old key is not in the ring: nothing is written, the message names its id.
      let r = await admin(["rotate-secret-key"], { ...env, CAPSTAN_SECRET_KEY: NEW });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr.trim(),
        new RegExp(
          `^admin: secrets: the database holds secrets encrypted with key id ${await keyIdOf(
            OLD,
          )} \\(1 in alert_channels, 3 in secret_versions, 1 in build_sources, 1 in build_hooks, 1 in storage_targets, 1 in nas_targets\\)`,
        ),
      );
      for (const k of [OLD, NEW]) assert.ok(!r.stderr.includes(k));

      // A data dir without a key file gets no new key from the task.
      r = await admin(["rotate-secret-key"], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no key file in .* and CAPSTAN_SECRET_KEY is not set/);
      await assert.rejects(Deno.stat(join(dataDir, SECRET_KEY_FILE)), Deno.errors.NotFound);

      r = await admin(["rotate-secret-key", "--generate"], { ...env, CAPSTAN_SECRET_KEY: OLD });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--generate is for a key file/);
      r = await admin(["rotate-secret-key", "--generate", "--check"], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--generate and --check do not go together/);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

dbUrlTest(
  "[e2e] a tampered secret fails closed naming the secret and version, never its value",
  async ({ url }) => {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-rotate-" });
    const env = {
      CAPSTAN_DATA_DIR: dataDir,
      DATABASE_URL: url,
      CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      CAPSTAN_SECRET_KEY: generateSecretKey(),
    };
    try {
      await withServices(env, async (s) => {
        const { orgId } = await seedEncrypted(s);
        const id = (await s.secrets.get(orgId, "API_TOKEN")).id;
        const row = await s.db.selectFrom("secret_versions").select("blob")
          .where("secret_id", "=", id).where("version", "=", 2).executeTakeFirstOrThrow();
        const parts = row.blob.split(".");
        const i = 10;
        parts[3] = parts[3].slice(0, i) + (parts[3][i] === "A" ? "B" : "A") + parts[3].slice(i + 1);
        await s.db.updateTable("secret_versions").set({ blob: parts.join(".") })
          .where("secret_id", "=", id).where("version", "=", 2).execute();

        await assert.rejects(s.secrets.material(orgId, "API_TOKEN", 2), (e: Error) => {
          assert.ok(e instanceof SecretDecryptError);
          assert.equal(
            e.message,
            "Cannot decrypt secret: secret API_TOKEN version 2: the ciphertext does not authenticate",
          );
          assert.ok(!e.message.includes(VALUE));
          return true;
        });
        // The untouched version still opens.
        const v1 = await s.secrets.material(orgId, "API_TOKEN", 1);
        assert.equal(new TextDecoder().decode(v1.value), "v1-" + VALUE);
      });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
