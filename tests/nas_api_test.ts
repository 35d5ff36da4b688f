/**
 * NAS backup status through the HTTP API on both dialects, against a real OpenSSH server on a
 * loopback port: a target with a key Capstan generated (its public half installed in the server's
 * authorized_keys), the host key pinned on the first check, a site whose newest backup is older
 * than the threshold raising `nas_backup_stale` through the real alerts engine and its default
 * rule, and resolving once a newer backup appears; a server with another host key refused; bad
 * input answered by field; roles (viewers read, admins write); no credential in any answer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { userInfo } from "node:os";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { freePort } from "./support/process.ts";
import { type SshGitServer, startSshGitServer } from "./support/ssh_git_server.ts";

const HOUR = 3_600_000;

/** A backup root: `alpha` backed up a minute ago, `beta` last 72 hours ago (its folder too). */
async function backupRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "capstan-nas-root-" });
  await Deno.mkdir(join(root, "alpha", "2026-01-02"), { recursive: true });
  await Deno.writeTextFile(join(root, "alpha", "2026-01-02", "db.sql"), "fresh");
  await Deno.mkdir(join(root, "beta", "old"), { recursive: true });
  await Deno.writeTextFile(join(root, "beta", "old", "db.sql"), "stale");
  const old = new Date(Date.now() - 72 * HOUR);
  await Deno.utime(join(root, "beta", "old", "db.sql"), old, old);
  await Deno.utime(join(root, "beta", "old"), old, old);
  return root;
}

dbTest(
  "[e2e] NAS API: key auth against a real sshd, host key pinned, stale site alerts and resolves, wrong host key refused, roles, no secrets in answers",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
    const bodies: string[] = [];
    const call = async (cookie: string, method: string, path: string, json?: unknown) => {
      const res = await t.request(`/api/v1/orgs/acme/storage/nas${path}`, {
        method,
        cookie,
        json,
      });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, body: text ? JSON.parse(text) : null, text };
    };
    const root = await backupRoot();
    const port = freePort();
    let server: SshGitServer | undefined;
    try {
      // Bad input is answered by field; members and viewers may not add.
      let r = await call(admin.cookie, "POST", "", {
        name: "-bad",
        host: "-oProxyCommand=x",
        user: "root",
        backup_root: "/tmp/'; rm -rf /",
      });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields).sort(), ["backup_root", "host", "name"]);
      r = await call(admin.cookie, "POST", "", {
        name: "pw",
        host: "127.0.0.1",
        user: "root",
        auth: "password",
        backup_root: "/srv",
      });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields), ["password"]);
      const input = {
        name: "office",
        host: "127.0.0.1",
        port,
        user: userInfo().username,
        backup_root: root,
      };
      for (const who of [member, viewer]) {
        assert.equal((await call(who.cookie, "POST", "", input)).status, 403);
      }

      // Key auth: Capstan generates the key; the answer holds its public half only.
      r = await call(admin.cookie, "POST", "", input);
      assert.equal(r.status, 201, r.text);
      const id = r.body.id as string;
      const publicKey = r.body.public_key as string;
      assert.match(r.body.public_key, /^ssh-ed25519 [A-Za-z0-9+/=]+ capstan-nas-office$/);
      assert.equal(r.body.stale_threshold_hours, 48);
      assert.equal(r.body.known_host_fingerprint, null);
      assert.equal((await call(admin.cookie, "POST", "", input)).status, 409, "name in use");

      // The NAS's sshd trusts that key; the first check pins its host key.
      server = await startSshGitServer({ authorizedKey: publicKey, root, port });
      r = await call(admin.cookie, "POST", `/${id}/check`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.last_error, null, `${r.body.last_error}\n${server.log()}`);
      assert.equal(r.body.known_host_fingerprint, server.hostKeyFingerprint);
      const site = (name: string) =>
        (r.body.sites as { name: string; stale: boolean; age_hours: number; newest_path: string }[])
          .find((s) => s.name === name)!;
      assert.deepEqual(r.body.sites.map((s: { name: string }) => s.name), ["alpha", "beta"]);
      assert.equal(site("alpha").stale, false);
      assert.equal(site("alpha").age_hours, 0);
      assert.equal(site("alpha").newest_path, "2026-01-02/db.sql");
      assert.equal(site("beta").stale, true);
      assert.ok(site("beta").age_hours >= 71 && site("beta").age_hours <= 73, r.text);
      assert.equal(r.body.stale_sites, 1);

      // The stale site raised nas_backup_stale (default rule), once.
      await t.services.alerts.idle();
      const alerts = async () => {
        const res = await t.request("/api/v1/orgs/acme/alerts", { cookie: viewer.cookie });
        return ((await res.json()).items as { title: string; state: string; rule_name: string }[])
          .filter((a) => a.rule_name === "NAS backup stale or NAS unreachable");
      };
      let got = await alerts();
      assert.equal(got.length, 1, JSON.stringify(got));
      assert.match(got[0].title, /^NAS office: last backup of beta 7\d hours ago$/);
      assert.equal(got[0].state, "firing");
      r = await call(admin.cookie, "POST", `/${id}/check`);
      await t.services.alerts.idle();
      assert.equal((await alerts()).length, 1, "still stale: not told again");

      // A newer backup in beta: the next check resolves it.
      await Deno.writeTextFile(join(root, "beta", "today.sql"), "new");
      r = await call(admin.cookie, "POST", `/${id}/check`);
      assert.equal(r.body.stale_sites, 0, r.text);
      await t.services.alerts.idle();
      got = await alerts();
      assert.equal(got.length, 1);
      assert.equal(got[0].state, "resolved");

      // Viewers read the list and one target; members may not check or change.
      r = await call(viewer.cookie, "GET", "");
      assert.equal(r.status, 200);
      assert.equal(r.body.items.length, 1);
      assert.equal((await call(viewer.cookie, "GET", `/${id}`)).status, 200);
      assert.equal((await call(member.cookie, "POST", `/${id}/check`)).status, 403);
      assert.equal((await call(member.cookie, "PATCH", `/${id}`, { port: 23 })).status, 403);
      assert.equal((await call(viewer.cookie, "DELETE", `/${id}`)).status, 403);

      // Another host key on the same address: refused, told, and nothing of the sites forgotten.
      await server.close();
      server = undefined;
      server = await startSshGitServer({ authorizedKey: publicKey, root, port });
      r = await call(admin.cookie, "POST", `/${id}/check`);
      assert.equal(r.status, 200);
      assert.match(r.body.last_error, /host key/i);
      assert.notEqual(r.body.known_host_fingerprint, server.hostKeyFingerprint);
      assert.equal(r.body.sites.length, 2, "a failed check keeps the last sites");
      // Forgetting the pinned key pins the new one on the next check.
      r = await call(admin.cookie, "PATCH", `/${id}`, { forget_host_key: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.known_host_fingerprint, null);
      r = await call(admin.cookie, "POST", `/${id}/check`);
      assert.equal(r.body.last_error, null, r.text);
      assert.equal(r.body.known_host_fingerprint, server.hostKeyFingerprint);

      // Bad patches name the field.
      r = await call(admin.cookie, "PATCH", `/${id}`, { port: 0, stale_threshold_hours: -1 });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields).sort(), ["port", "stale_threshold_hours"]);

      // No answer ever held the private key; the audit rows neither.
      const stored = await h.db.selectFrom("nas_targets").select("credentials").executeTakeFirst();
      assert.ok(stored?.credentials.startsWith("v1."), "credentials are an encrypted blob");
      for (const b of bodies) {
        assert.ok(!/PRIVATE KEY|credentials/.test(b), `an answer holds a secret: ${b}`);
      }
      const audit = await h.db.selectFrom("audit_log").selectAll()
        .where("action", "like", "nas_target.%").execute();
      assert.ok(audit.length >= 5);
      assert.ok(!JSON.stringify(audit).includes("PRIVATE KEY"));

      // The page: each site's last backup and the stale badge for viewers; the public key shown,
      // never the private one; the add form for admins only, refusing bad input by field.
      await Deno.utime(
        join(root, "beta", "today.sql"),
        new Date(0),
        new Date(Date.now() - 50 * HOUR),
      );
      await call(admin.cookie, "POST", `/${id}/check`);
      const html = async (cookie: string, path = "", init: RequestInit = {}) => {
        const res = await t.request(`/o/acme/storage/nas${path}`, { cookie, ...init });
        return { status: res.status, text: await res.text() };
      };
      let p = await html(viewer.cookie);
      assert.equal(p.status, 200);
      assert.match(p.text, /data-site="alpha" data-stale="0"/);
      assert.match(p.text, /data-site="beta" data-stale="1"/);
      assert.match(p.text, /last backup (49|50|51) hours ago/);
      assert.ok(p.text.includes(publicKey), "the public key is shown");
      assert.ok(!/PRIVATE KEY/.test(p.text));
      assert.ok(!p.text.includes("Add NAS"), "viewers get no add form");
      assert.ok(!p.text.includes("Check now"));
      p = await html(admin.cookie);
      assert.ok(p.text.includes("Add NAS") && p.text.includes("Check now"));
      const form = new URLSearchParams({
        name: "x",
        host: "h",
        user: "u",
        backup_root: "relative",
      });
      p = await html(admin.cookie, "", {
        method: "POST",
        body: form,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      assert.equal(p.status, 400);
      assert.match(p.text, /must be an absolute path/i);
      const confirm = await html(admin.cookie, `/${id}/delete`);
      assert.match(confirm.text, /Delete NAS office\?/);
      assert.equal((await html(member.cookie, `/${id}/delete`)).status, 403);

      // Deleting ends what it raised and answers 404 after.
      r = await call(admin.cookie, "DELETE", `/${id}`);
      assert.equal(r.status, 204);
      assert.equal((await call(admin.cookie, "GET", `/${id}`)).status, 404);
    } finally {
      await server?.close();
      await t.services.alerts.idle();
      await Deno.remove(root, { recursive: true });
    }
  },
);
