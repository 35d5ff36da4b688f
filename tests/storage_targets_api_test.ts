/**
 * The storage targets and schedules API on both dialects: roles (viewers read, admins write
 * targets, members write schedules), 400 naming the field, secrets in no answer and no audit row,
 * "Test connection" of an S3 target against the loopback HTTPS S3 server (a pass, and a wrong
 * secret failing at its step), of a filesystem target and an unreachable SFTP server through an
 * in-process agent with the real restic, and schedules with their next run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { attachTestAgent } from "./support/agent.ts";
import { startS3Server } from "./support/s3_server.ts";
import { freePort } from "./support/process.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";

const ignored = dockerTestsIgnored("storage-targets-api");
const S3_CANARY = "Wr0ng-S3-secret-canary-never-shown";
const KEY_CANARY = "ssh-key-canary-never-shown";

/** An OpenSSH private key made for this test (the SFTP target's key). */
async function privateKey(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-key-" });
  try {
    const r = await new Deno.Command("ssh-keygen", {
      args: ["-q", "-t", "ed25519", "-N", "", "-C", KEY_CANARY, "-f", join(dir, "k")],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return await Deno.readTextFile(join(dir, "k"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

dbTest(
  "[docker] storage targets API: roles, fields named, secrets never answered or audited, test connection of S3 (hub) and filesystem/SFTP (agent); schedules with their next run",
  async (h) => {
    if (ignored) return;
    const t = testApp(h, undefined, undefined, { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1" });
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
    const orgId = (await t.services.orgs.bySlug("acme"))!.id;
    const bodies: string[] = [];
    const call = async (cookie: string, method: string, path: string, json?: unknown) => {
      const res = await t.request(`/api/v1/orgs/acme/storage${path}`, { method, cookie, json });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const s3 = await startS3Server({ bucket: "targets-api" });
    const repoRoot = await Deno.makeTempDir({ prefix: "capstan-fs-target-" });
    const agent = await attachTestAgent(t.services, orgId);
    try {
      // Validation names the field; members may not add targets.
      let r = await call(admin.cookie, "POST", "/targets", { kind: "s3", name: "x" });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.endpoint, JSON.stringify(r.body));
      r = await call(admin.cookie, "POST", "/targets", {
        kind: "filesystem",
        name: "local",
        path: "rel",
      });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.path);
      r = await call(member.cookie, "POST", "/targets", { kind: "filesystem", name: "local" });
      assert.equal(r.status, 403);

      const s3Body = {
        kind: "s3",
        name: "loopback-s3",
        endpoint: s3.endpoint,
        region: "us-east-1",
        bucket: s3.bucket,
        prefix: "capstan",
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        path_style: true,
        ca_pem: s3.caPem,
      };
      r = await call(admin.cookie, "POST", "/targets", s3Body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const good = r.body;
      assert.equal(good.is_default, true);
      assert.deepEqual(good.secrets_set, ["secret_access_key"]);
      assert.equal(good.config.secret_access_key, undefined);
      r = await call(admin.cookie, "POST", "/targets", {
        ...s3Body,
        name: "wrong-secret",
        secret_access_key: S3_CANARY,
      });
      const wrong = r.body;

      // S3 from the hub: a pass recorded on the target; a wrong secret fails at the write.
      r = await call(admin.cookie, "POST", `/targets/${good.id}/test`);
      assert.equal(r.status, 200);
      assert.deepEqual([r.body.ok, r.body.from], [true, "hub"], JSON.stringify(r.body));
      r = await call(admin.cookie, "POST", `/targets/${wrong.id}/test`, {});
      assert.deepEqual([r.body.ok, r.body.step, r.body.failure], [false, "write", "credentials"]);
      r = await call(viewer.cookie, "GET", `/targets/${wrong.id}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.test_ok, false);
      assert.match(r.body.test_error, /secret access key does not match/);
      r = await call(viewer.cookie, "POST", `/targets/${good.id}/test`);
      assert.equal(r.status, 403);

      // Filesystem through the agent: listing an empty folder makes nothing and passes.
      r = await call(admin.cookie, "POST", "/targets", {
        kind: "filesystem",
        name: "nas",
        path: repoRoot,
      });
      const fs = r.body;
      r = await call(admin.cookie, "POST", `/targets/${fs.id}/test`, { host_id: agent.host.id });
      assert.deepEqual([r.body.ok, r.body.from], [true, agent.host.id], JSON.stringify(r.body));
      assert.deepEqual([...Deno.readDirSync(repoRoot)], [], "a test creates nothing");
      r = await call(admin.cookie, "POST", `/targets/${fs.id}/test`, { host_id: "nope" });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.host_id);

      // SFTP to a port where nothing listens: restic's message, never the key.
      r = await call(admin.cookie, "POST", "/targets", {
        kind: "sftp",
        name: "sftp-down",
        host: "127.0.0.1",
        port: freePort(),
        user: "backup",
        path: "/srv/restic",
        private_key: await privateKey(),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const sftp = r.body;
      assert.deepEqual(sftp.secrets_set, ["private_key"]);
      r = await call(admin.cookie, "POST", `/targets/${sftp.id}/test`);
      assert.equal(r.body.ok, false, JSON.stringify(r.body));
      assert.equal(r.body.step, "list");
      assert.match(r.body.message, /restic/);

      // Patch keeps the secret; delete; the list for viewers.
      r = await call(admin.cookie, "PATCH", `/targets/${wrong.id}`, { prefix: "other" });
      assert.equal(r.status, 200);
      assert.equal(r.body.config.prefix, "other");
      r = await call(admin.cookie, "PATCH", `/targets/${wrong.id}`, { verify_cron: "nope" });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.verify_cron);
      r = await call(admin.cookie, "DELETE", `/targets/${wrong.id}`);
      assert.equal(r.status, 204);
      r = await call(viewer.cookie, "GET", "/targets");
      assert.deepEqual(r.body.items.map((x: { name: string }) => x.name).sort(), [
        "loopback-s3",
        "nas",
        "sftp-down",
      ]);

      // Schedules: members write, the retention is required, the next run is shown.
      r = await call(member.cookie, "POST", "/schedules", {
        host_id: agent.host.id,
        volume: "pgdata",
        cron: "30 2 * * *",
        timezone: "Europe/Berlin",
      });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.keep_last);
      r = await call(viewer.cookie, "POST", "/schedules", {
        host_id: agent.host.id,
        volume: "pgdata",
        cron: "30 2 * * *",
        keep_last: 3,
      });
      assert.equal(r.status, 403);
      r = await call(member.cookie, "POST", "/schedules", {
        host_id: agent.host.id,
        volume: "pgdata",
        cron: "30 2 * * *",
        timezone: "Europe/Berlin",
        keep_daily: 7,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(r.body.next_run_at > Date.now());
      const sched = r.body;
      r = await call(member.cookie, "PATCH", `/schedules/${sched.id}`, { keep_weekly: 4 });
      assert.deepEqual([r.body.keep_daily, r.body.keep_weekly], [7, 4]);
      r = await call(viewer.cookie, "GET", `/schedules?volume_id=${sched.volume_id}`);
      assert.deepEqual(r.body.items.map((x: { id: string }) => x.id), [sched.id]);
      r = await call(member.cookie, "DELETE", `/schedules/${sched.id}`);
      assert.equal(r.status, 204);

      // No secret anywhere: answers, audit rows (the repository passwords included).
      const audit = await h.db.selectFrom("audit_log").selectAll().execute();
      const actions = new Set(audit.map((a) => a.action));
      for (
        const a of [
          "storage_target.created",
          "storage_target.updated",
          "storage_target.deleted",
          "storage_target.tested",
          "snapshot_schedule.created",
          "snapshot_schedule.deleted",
        ]
      ) assert.ok(actions.has(a), `audited: ${a}`);
      const passwords = await Promise.all(
        [good.id, fs.id, sftp.id].map(async (id) =>
          (await t.services.storageTargets.open(orgId, id, () => "/x")).password
        ),
      );
      const everything = [...bodies, JSON.stringify(audit)].join("\n");
      for (const secret of [S3_CANARY, KEY_CANARY, "PRIVATE KEY", ...passwords]) {
        assert.ok(!everything.includes(secret), "a secret appears in an answer or audit row");
      }
    } finally {
      await agent.stop();
      await s3.close();
      await Deno.remove(repoRoot, { recursive: true }).catch(() => {});
    }
  },
);
