import assert from "node:assert/strict";
import { dbTest } from "../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../tests/support/services.ts";
import { assertSeededReadable, seedEncrypted, VALUE } from "../tests/support/encrypted_seed.ts";
import type { DbHandle } from "./db/mod.ts";
import { collectEncrypted } from "./module.ts";
import { MODULES } from "../modules.ts";
import { generateSecretKey } from "./secret_key.ts";
import { createSecretBox, type SecretBox } from "./crypto/secrets.ts";
import { assertRingOpensAll, keyIdCounts, rewrapColumn } from "./encrypted_columns.ts";
import { StartupError } from "./startup_error.ts";

const OLD = generateSecretKey();
const NEW = generateSecretKey();

const COLUMNS = collectEncrypted(MODULES);
const column = (table: string) => COLUMNS.find((c) => c.table === table)!;

/** Services whose ring is `key` (+ `previous`), with loopback channel targets allowed. */
const servicesWith = (h: DbHandle, key: string, previous: string[] = []) =>
  testServices(h, undefined, {
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    CAPSTAN_SECRET_KEY: key,
    ...(previous.length ? { CAPSTAN_SECRET_KEY_PREVIOUS: previous.join(",") } : {}),
  });

/** The seeded secrets and channel, all under `key`. */
const seed = (h: DbHandle, key: string) => seedEncrypted(servicesWith(h, key));

/** Everything seeded reads back through services that hold only `key`. */
const assertReadable = (h: DbHandle, key: string, orgId: string, channelId: string) =>
  assertSeededReadable(servicesWith(h, key), orgId, channelId);

Deno.test("collectEncrypted() lists the secrets' versions, the alert channels' configs, the build sources' credentials and webhook secrets, the storage targets' and NAS targets' secrets", () => {
  assert.deepEqual(
    COLUMNS.map((c) => [c.table, c.key, c.blob, c.keyId]),
    [
      ["alert_channels", ["id"], "config", undefined],
      ["secret_versions", ["secret_id", "version"], "blob", "key_id"],
      ["build_sources", ["id"], "credentials", "credentials_key_id"],
      ["build_hooks", ["id"], "secret", "secret_key_id"],
      ["storage_targets", ["id"], "secrets", "secrets_key_id"],
      ["nas_targets", ["id"], "credentials", "credentials_key_id"],
    ],
  );
  assert.equal(column("build_sources").context({ id: "b1" }), "build-source:b1");
  assert.equal(column("secret_versions").context({ secret_id: "s1", version: 3 }), "secret:s1:v3");
  assert.equal(column("alert_channels").context({ id: "c1" }), "alert_channel:c1");
});

dbTest(
  "assertRingOpensAll() fails closed naming the key ids and tables, never a key",
  async (h) => {
    await seed(h, OLD);
    const oldId = (await createSecretBox(OLD)).keyId;
    const wrong = await createSecretBox(NEW);
    const counts = await keyIdCounts(h.db, column("secret_versions"));
    assert.deepEqual([...counts], [[oldId, 3]]);
    assert.deepEqual([...await keyIdCounts(h.db, column("alert_channels"))], [[oldId, 1]]);

    const env = { keyId: wrong.keyId, keyIds: wrong.keyIds, source: { kind: "env" as const } };
    await assert.rejects(
      assertRingOpensAll(h.db, { ...env, previousFromEnv: true }, COLUMNS),
      (e: Error) => {
        assert.ok(e instanceof StartupError);
        assert.equal(
          e.message,
          `secrets: the database holds secrets encrypted with key id ${oldId} (1 in alert_channels, 3 in secret_versions, 1 in build_sources, 1 in build_hooks, 1 in storage_targets, 1 in nas_targets), ` +
            `which CAPSTAN_SECRET_KEY is not (it is key id ${wrong.keyId}) nor any key of CAPSTAN_SECRET_KEY_PREVIOUS; ` +
            `start with that key (CAPSTAN_SECRET_KEY, or the first line of the data dir's secret-key file)`,
        );
        for (const k of [OLD, NEW]) assert.ok(!e.message.includes(k));
        return true;
      },
    );
    await assert.rejects(
      assertRingOpensAll(h.db, {
        ...env,
        source: { kind: "file", path: "/srv/capstan/secret-key", generated: true },
        previousFromEnv: false,
      }, COLUMNS),
      /which the key file \/srv\/capstan\/secret-key does not hold \(its key id is \w+, a key made just now: the data dir had no key file\); start with that key/,
    );
    // The old key as a previous key opens everything: no error.
    const ring = await createSecretBox(NEW, [OLD]);
    await assertRingOpensAll(h.db, { ...env, keyIds: ring.keyIds, previousFromEnv: true }, COLUMNS);
  },
);

dbTest(
  "rewrapColumn() moves every blob to the current key; idempotent; the new key alone reads all",
  async (h) => {
    const { orgId, channelId } = await seed(h, OLD);
    const ring = await createSecretBox(NEW, [OLD]);
    const first = await Promise.all(COLUMNS.map((c) => rewrapColumn(h.db, ring, c)));
    assert.deepEqual(
      first.map((r) => [r.table, r.rewrapped, r.alreadyCurrent, r.changed, r.failed.length]),
      [
        ["alert_channels", 1, 0, 0, 0],
        ["secret_versions", 3, 0, 0, 0],
        ["build_sources", 1, 0, 0, 0],
        ["build_hooks", 1, 0, 0, 0],
        ["storage_targets", 1, 0, 0, 0],
        ["nas_targets", 1, 0, 0, 0],
      ],
    );
    const again = await Promise.all(COLUMNS.map((c) => rewrapColumn(h.db, ring, c)));
    assert.deepEqual(
      again.map((r) => [r.table, r.rewrapped, r.alreadyCurrent]),
      [
        ["alert_channels", 0, 1],
        ["secret_versions", 0, 3],
        ["build_sources", 0, 1],
        ["build_hooks", 0, 1],
        ["storage_targets", 0, 1],
        ["nas_targets", 0, 1],
      ],
    );
    // The key_id column follows the blob.
    assert.deepEqual([...await keyIdCounts(h.db, column("secret_versions"))], [[ring.keyId, 3]]);
    await assertReadable(h, NEW, orgId, channelId);
    // … and the old key alone no longer does: the start-up check names the new key's id.
    const old = await createSecretBox(OLD);
    await assert.rejects(
      assertRingOpensAll(
        h.db,
        { keyId: old.keyId, keyIds: old.keyIds, source: { kind: "env" }, previousFromEnv: false },
        COLUMNS,
      ),
      new RegExp(
        `key id ${ring.keyId} \\(1 in alert_channels, 3 in secret_versions, 1 in build_sources, 1 in build_hooks, 1 in storage_targets, 1 in nas_targets\\)`,
      ),
    );
  },
);

dbTest("rewrapColumn() and keyIdCounts() page through rows in bounded batches", async (h) => {
  const { orgId, channelId } = await seed(h, OLD);
  const s = servicesWith(h, OLD);
  for (const name of ["C1", "C2", "C3"]) {
    await s.alerts.channels.create(SYSTEM_CTX, orgId, {
      name,
      kind: "slack",
      config: { url: "http://127.0.0.1:9/" + name },
    });
  }
  const oldId = (await createSecretBox(OLD)).keyId;
  assert.deepEqual([...await keyIdCounts(h.db, column("alert_channels"), { batch: 2 })], [[
    oldId,
    4,
  ]]);
  const ring = await createSecretBox(NEW, [OLD]);
  for (const batch of [1, 2]) {
    const r = await Promise.all(COLUMNS.map((c) => rewrapColumn(h.db, ring, c, { batch })));
    assert.deepEqual(
      r.map((x) => [x.table, x.rewrapped, x.alreadyCurrent]),
      batch === 1
        ? [
          ["alert_channels", 4, 0],
          ["secret_versions", 3, 0],
          ["build_sources", 1, 0],
          ["build_hooks", 1, 0],
          ["storage_targets", 1, 0],
          ["nas_targets", 1, 0],
        ]
        : [
          ["alert_channels", 0, 4],
          ["secret_versions", 0, 3],
          ["build_sources", 0, 1],
          ["build_hooks", 0, 1],
          ["storage_targets", 0, 1],
          ["nas_targets", 0, 1],
        ],
    );
  }
  await assertReadable(h, NEW, orgId, channelId);
});

dbTest(
  "rewrapColumn() never overwrites a row a hub wrote meanwhile (compare-and-set)",
  async (h) => {
    const { orgId, channelId } = await seed(h, OLD);
    const ring = await createSecretBox(NEW, [OLD]);
    const hub = servicesWith(h, NEW, [OLD]);
    // Between the rotation's read and its write, a hub changes the channel's signing secret.
    const racing: SecretBox = {
      ...ring,
      async rewrap(blob, context) {
        const out = await ring.rewrap(blob, context);
        await hub.alerts.channels.update(SYSTEM_CTX, orgId, channelId, {
          config: { secret: "changed-meanwhile-0123" },
        });
        return out;
      },
    };
    const r = await rewrapColumn(h.db, racing, column("alert_channels"));
    assert.deepEqual([r.rewrapped, r.alreadyCurrent, r.changed], [0, 0, 1]);
    const cfg = await hub.alerts.channels.open(await hub.alerts.channels.row(orgId, channelId));
    assert.equal((cfg as { secret: string }).secret, "changed-meanwhile-0123");
    // What the hub wrote is under the current key: nothing is left to re-wrap.
    const again = await rewrapColumn(h.db, ring, column("alert_channels"));
    assert.deepEqual([again.rewrapped, again.alreadyCurrent], [0, 1]);
  },
);

dbTest(
  "rewrapColumn() reports a tampered blob by its row, never a value, and re-wraps the rest",
  async (h) => {
    const { orgId } = await seed(h, OLD);
    const s = servicesWith(h, OLD);
    const id = (await s.secrets.get(orgId, "DB_PASSWORD")).id;
    const row = await h.db.selectFrom("secret_versions").select("blob").where("secret_id", "=", id)
      .executeTakeFirstOrThrow();
    const parts = row.blob.split(".");
    // One character of the wrapped data key changed (still base64url): it no longer authenticates.
    const i = 20;
    parts[2] = parts[2].slice(0, i) + (parts[2][i] === "A" ? "B" : "A") + parts[2].slice(i + 1);
    await h.db.updateTable("secret_versions").set({ blob: parts.join(".") })
      .where("secret_id", "=", id).execute();

    const r = await rewrapColumn(
      h.db,
      await createSecretBox(NEW, [OLD]),
      column("secret_versions"),
    );
    assert.deepEqual([r.rewrapped, r.alreadyCurrent, r.changed], [2, 0, 0]);
    assert.deepEqual(r.failed, [{
      row: `secret_versions secret_id=${id} version=1`,
      reason: "the data key does not authenticate",
    }]);
    assert.ok(!JSON.stringify(r).includes(VALUE));
  },
);
