/**
 * What the key-rotation tests encrypt and read back: two secrets (one with two versions), a
 * webhook channel with a signing secret, and an app's Git source with an access token (and so the
 * app's build webhook with its secret), an S3 storage target (its secret key and repository
 * password) and a NAS target with a password — every kind of encrypted column the modules declare.
 */
import assert from "node:assert/strict";
import type { Services } from "../../services.ts";
import { SYSTEM_CTX } from "./services.ts";
import { insertOrg } from "./org_row.ts";
import { parseSpec } from "../../lib/apps/service.ts";
import { nasCredentialsContext } from "../../lib/nas/service.ts";

/** A secret value no test writes anywhere else (searched for in outputs). */
export const VALUE = "pw-canary-" + crypto.randomUUID();
export const HOOK_SECRET = "hook-canary-0123456789";
export const GIT_TOKEN = "git-canary-" + crypto.randomUUID();
export const S3_SECRET = "s3-canary-" + crypto.randomUUID();
export const NAS_PASSWORD = "nas-canary-" + crypto.randomUUID();

type Seeded = Pick<
  Services,
  "db" | "secrets" | "alerts" | "apps" | "builds" | "storageTargets" | "nas" | "secretBox"
>;

const OWNER = { ctx: SYSTEM_CTX, role: "owner" as const, platformAdmin: false };

/** Seeds through `s` (its key encrypts everything). */
export async function seedEncrypted(s: Seeded) {
  const orgId = await insertOrg(s.db, "acme");
  const caller = { ctx: SYSTEM_CTX, orgId };
  await s.secrets.create(caller, { name: "DB_PASSWORD", value: VALUE });
  await s.secrets.create(caller, { name: "API_TOKEN", value: "v1-" + VALUE });
  await s.secrets.update(caller, "API_TOKEN", { value: "v2-" + VALUE, rotation: "next_deploy" });
  const channel = await s.alerts.channels.create(SYSTEM_CTX, orgId, {
    name: "ops",
    kind: "webhook",
    config: { url: "http://127.0.0.1:9/hook", secret: HOOK_SECRET },
  });
  const app = await s.apps.store.create(orgId, {
    name: "seeded",
    spec: parseSpec({ services: [{ name: "web", image: "capstan-test/busybox:latest" }] }),
  }, null);
  await s.builds.connect(OWNER, app, "web", {
    repo_url: "https://git.example.test/team/seeded.git",
    auth: "token",
    token: GIT_TOKEN,
  });
  await s.storageTargets.create(SYSTEM_CTX, orgId, {
    kind: "s3",
    name: "offsite",
    endpoint: "https://s3.example.test",
    bucket: "backups",
    access_key_id: "AKIASEEDED",
    secret_access_key: S3_SECRET,
  });
  await s.nas.create(caller, {
    name: "office",
    host: "nas.example.test",
    user: "backup",
    auth: "password",
    password: NAS_PASSWORD,
    backup_root: "/volume1/backups",
  });
  return { orgId, channelId: channel.id };
}

/** Every seeded value reads back through `s`. */
export async function assertSeededReadable(s: Seeded, orgId: string, channelId: string) {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(text((await s.secrets.material(orgId, "DB_PASSWORD", 1)).value), VALUE);
  assert.equal(text((await s.secrets.material(orgId, "API_TOKEN", 1)).value), "v1-" + VALUE);
  assert.equal(text((await s.secrets.material(orgId, "API_TOKEN", 2)).value), "v2-" + VALUE);
  const cfg = await s.alerts.channels.open(await s.alerts.channels.row(orgId, channelId));
  assert.equal((cfg as { secret: string }).secret, HOOK_SECRET);
  const app = await s.apps.store.get(orgId, "seeded");
  const source = (await s.builds.store.source(app.id, "web"))!;
  assert.equal((await s.builds.credentials(source)).token, GIT_TOKEN);
  const target = await s.storageTargets.open(orgId, null, () => "/unused");
  assert.equal((target.target as { secret_access_key: string }).secret_access_key, S3_SECRET);
  const nas = (await s.nas.list(orgId))[0];
  const row = await s.db.selectFrom("nas_targets").select("credentials").where("id", "=", nas.id)
    .executeTakeFirstOrThrow();
  const box = await s.secretBox();
  const creds = JSON.parse(await box.decrypt(row.credentials, nasCredentialsContext(nas.id)));
  assert.equal(creds.password, NAS_PASSWORD);
}
