import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { createAuditLog } from "../audit/service.ts";
import { createSecretBox } from "../crypto/secrets.ts";
import { Conflict, Invalid } from "../errors.ts";
import { base64url } from "../util/ids.ts";
import { createSnapshotStore } from "./store.ts";
import { createTargets } from "./targets.ts";

const ctx = { actor: { type: "user" as const, id: "u1", name: "ada" } };
const SECRET = "s3-secret-never-shown";

dbTest(
  "storage targets: secrets sealed and write-only, first target is the default, names unique, patches keep secrets, open gives the agent's target",
  async (h) => {
    const clock = manualClock(1_000_000);
    const box = await createSecretBox(base64url(crypto.getRandomValues(new Uint8Array(32))));
    const store = createSnapshotStore(h.db, clock);
    const targets = createTargets({
      store,
      box: () => Promise.resolve(box),
      audit: createAuditLog(h.db, clock),
      clock,
    });
    const orgId = await insertOrg(h.db, "acme");

    const fs = await targets.create(ctx, orgId, { kind: "filesystem", name: "local" });
    assert.equal(fs.is_default, true);
    assert.ok(fs.config.path === undefined);
    const s3 = await targets.create(ctx, orgId, {
      kind: "s3",
      name: "supabase",
      endpoint: "https://abc.supabase.co/storage/v1/s3",
      region: "eu-central-1",
      bucket: "backups",
      access_key_id: "AKIA1",
      secret_access_key: SECRET,
      path_style: true,
    });
    assert.equal(s3.is_default, false);
    assert.deepEqual(s3.secrets_set, ["secret_access_key"]);
    assert.ok(!JSON.stringify(await targets.list(orgId)).includes(SECRET));
    const row = await store.target(orgId, s3.id);
    assert.ok(!JSON.stringify(row).includes(SECRET), "the secret is sealed in the row");

    await assert.rejects(
      targets.create(ctx, orgId, { kind: "filesystem", name: "local" }),
      (e) => e instanceof Invalid && /exists already/.test(JSON.stringify(e)),
    );
    await assert.rejects(
      targets.create(ctx, orgId, { kind: "s3", name: "x", endpoint: "http://plain" }),
      Invalid,
    );

    // A patch that leaves the secret out keeps it; making it the default moves the flag.
    await targets.update(ctx, orgId, s3.id, { prefix: "capstan", is_default: true });
    const opened = await targets.open(orgId, null, () => "/unused");
    assert.equal(opened.row.id, s3.id);
    assert.equal(opened.target.kind, "s3");
    assert.equal((opened.target as { secret_access_key: string }).secret_access_key, SECRET);
    assert.equal((opened.target as { prefix: string }).prefix, "capstan");
    assert.ok(opened.password.length >= 32);
    assert.equal((await targets.get(orgId, fs.id)).is_default, false);

    const local = await targets.open(orgId, fs.id, (org) => `/data/snapshots/${org}`);
    assert.deepEqual(local.target, { kind: "filesystem", path: `/data/snapshots/${orgId}` });
    assert.notEqual(local.password, opened.password, "one repository password per target");

    await targets.remove(ctx, orgId, fs.id);
    await assert.rejects(targets.get(orgId, fs.id));
    const other = await insertOrg(h.db, "other");
    await assert.rejects(targets.open(other, null, () => "/x"), Conflict);
    await assert.rejects(targets.get(other, s3.id), /No storage target/);
  },
);
