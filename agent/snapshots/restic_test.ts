import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { dockerTestsIgnored, testLabels, testName } from "../../lib/docker/testing.ts";
import type { SnapshotChunk } from "../../lib/protocol/snapshots.ts";
import { startSshGitServer } from "../../tests/support/ssh_git_server.ts";
import { repositoryAccess } from "./restic.ts";
import { doneOf, drain, PASSWORD, withFixture } from "../../tests/support/restic_agent.ts";

const SUITE = "agent-snapshots";
const ignore = dockerTestsIgnored(SUITE);
const SECRET_KEY = "s3cr3t-AcCeSs-KeY/with+chars";

Deno.test("repositoryAccess() puts S3 keys in the environment only, with the bucket lookup and CA as flags", () => {
  const tmp = "/tmp/capstan-restic-abc";
  const a = repositoryAccess({
    kind: "s3",
    endpoint: "https://abc.supabase.co/storage/v1/s3/",
    region: "eu-west-1",
    bucket: "backups",
    prefix: "/org-1/",
    access_key_id: "AKIDEXAMPLE",
    secret_access_key: SECRET_KEY,
    path_style: true,
    ca_cert_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  }, tmp);
  assert.equal(a.repository, "s3:https://abc.supabase.co/storage/v1/s3/backups/org-1");
  assert.deepEqual(a.env, {
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_DEFAULT_REGION: "eu-west-1",
  });
  assert.deepEqual(a.args, ["-o", "s3.bucket-lookup=path", "--cacert", `${tmp}/ca.pem`]);
  assert.deepEqual(Object.keys(a.files), ["ca.pem"]);
  const noCa = repositoryAccess({
    kind: "s3",
    endpoint: "https://s3.amazonaws.com",
    region: "",
    bucket: "b1",
    prefix: "",
    access_key_id: "AKIDEXAMPLE",
    secret_access_key: SECRET_KEY,
    path_style: false,
  }, tmp);
  assert.equal(noCa.repository, "s3:https://s3.amazonaws.com/b1");
  assert.deepEqual(noCa.args, ["-o", "s3.bucket-lookup=dns"]);
  assert.equal(noCa.env.AWS_DEFAULT_REGION, undefined);
  for (const x of [a, noCa]) {
    assert.ok(!JSON.stringify([x.args, x.repository]).includes(SECRET_KEY));
  }
});

Deno.test("repositoryAccess() reaches an sftp target through a generated ssh_config, the key in a file", () => {
  const tmp = "/tmp/capstan-restic-abc";
  const a = repositoryAccess({
    kind: "sftp",
    host: "nas.local",
    port: 2222,
    user: "backup",
    path: "/srv/restic/org-1",
    private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
    known_hosts: "[nas.local]:2222 ssh-ed25519 AAAAC3Nza",
  }, tmp);
  assert.equal(a.repository, "sftp:capstan-target:/srv/restic/org-1");
  assert.deepEqual(a.args, [
    "-o",
    `sftp.command=ssh -F ${tmp}/ssh_config capstan-target -s sftp`,
  ]);
  assert.match(a.files.ssh_config, /HostName nas\.local\n {2}Port 2222\n {2}User backup/);
  assert.match(a.files.ssh_config, /StrictHostKeyChecking yes/);
  assert.match(a.files.ssh_config, new RegExp(`IdentityFile "${tmp}/id"`));
  assert.ok(a.files.id.endsWith("-----\n"));
  assert.ok(!a.args.join(" ").includes("PRIVATE KEY"));
  assert.throws(() => repositoryAccess({ kind: "filesystem", path: "/x" }, "/tmp/a b"));
});

/** Every file, folder and link under `root` with its kind, mode, mtime, size, hash or target. */
async function manifest(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await Deno.lstat(path);
      const mode = (st.mode! & 0o7777).toString(8);
      if (e.isSymlink) out.set(r, `link ${await Deno.readLink(path)}`);
      else if (e.isDirectory) {
        out.set(r, `dir ${mode}`);
        await walk(path, r);
      } else {
        const hash = createHash("sha256");
        using f = await Deno.open(path);
        for await (const chunk of f.readable) hash.update(chunk);
        out.set(r, `file ${mode} ${st.size} ${st.mtime!.getTime()} ${hash.digest("hex")}`);
      }
    }
  };
  await walk(root, "");
  return out;
}

/** Fills `dir` with a sparse 1 GiB file, 10,000 small files, odd names, links and modes. */
async function fill(dir: string): Promise<string[]> {
  const sparse = join(dir, "big.sparse");
  using f = await Deno.open(sparse, { create: true, write: true });
  await f.truncate(1024 * 1024 * 1024);
  await f.seek(512 * 1024 * 1024, Deno.SeekMode.Start);
  await f.write(new TextEncoder().encode("in the middle"));
  const small: string[] = [];
  for (let d = 0; d < 100; d++) await Deno.mkdir(join(dir, "small", `d${d}`), { recursive: true });
  for (let i = 0; i < 10_000; i++) {
    const rel = `small/d${i % 100}/f${i}.txt`;
    small.push(rel);
    await Deno.writeTextFile(
      join(dir, rel),
      `file ${i} ${crypto.randomUUID()}\n`.repeat(i % 7 + 1),
    );
  }
  await Deno.writeTextFile(join(dir, "with space.txt"), "spaces\n");
  await Deno.writeTextFile(join(dir, "ünïcødé ✓ 文件.txt"), "unicode\n");
  await Deno.writeTextFile(join(dir, "new\nline.txt"), "newline\n");
  await Deno.symlink("small/d0/f0.txt", join(dir, "link"));
  await Deno.symlink("/nonexistent/target", join(dir, "dangling"));
  await Deno.writeTextFile(join(dir, "secret.conf"), "mode 640\n", { mode: 0o640 });
  await Deno.chmod(join(dir, "secret.conf"), 0o640);
  await Deno.writeTextFile(join(dir, "run.sh"), "#!/bin/sh\n");
  await Deno.chmod(join(dir, "run.sh"), 0o755);
  await Deno.mkdir(join(dir, "private"));
  await Deno.chmod(join(dir, "private"), 0o700);
  await Deno.utime(join(dir, "with space.txt"), new Date("2001-02-03T04:05:06Z"), 981173106);
  return small;
}

Deno.test({
  name: "[docker] snapshot.create/restore round-trip a volume through a filesystem repository",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async ({ agent, root, volume, docker }) => {
      const target = { kind: "filesystem", path: join(root, "repos", "org-1") };
      const repo = { target, password: PASSWORD };
      const src = await volume("src");
      const small = await fill(src.dir);
      const before = await manifest(src.dir);

      const first = await drain(agent.stream("snapshot.create", {
        snapshot_id: "snap-0001",
        volume: src.name,
        ...repo,
        tags: ["volume:src", "org:1"],
        host_tag: "worker-1",
      }));
      const done = doneOf(first);
      assert.match(done.restic_id, /^[0-9a-f]{64}$/);
      // 10,006 regular files and 2 links (folders are not counted).
      assert.ok(done.total_files_processed >= 10_006, `${done.total_files_processed} files`);
      assert.ok(done.total_bytes_processed >= 1024 * 1024 * 1024);
      assert.ok(first.some((c) => c.kind === "progress"), "no progress chunk arrived");
      assert.ok(!JSON.stringify(first).includes(PASSWORD));

      // Wipe and restore into the same volume; restore into a volume that does not exist yet.
      const again = await drain(agent.stream("snapshot.restore", {
        restic_id: done.restic_id,
        ...repo,
        volume: src.name,
        wipe: true,
      }));
      assert.equal(doneOf(again).restic_id, done.restic_id);
      assert.deepEqual(await manifest(src.dir), before);
      const freshName = testName(SUITE, "fresh");
      const fresh = await drain(agent.stream("snapshot.restore", {
        restic_id: done.restic_id.slice(0, 8),
        ...repo,
        volume: freshName,
        labels: testLabels(SUITE),
      }));
      doneOf(fresh);
      const freshDir = (await docker.inspectVolume(freshName)).Mountpoint;
      assert.deepEqual(await manifest(freshDir), before);

      // 1 % of the files change: the second snapshot adds little.
      for (const rel of small.slice(0, 20)) {
        await Deno.writeTextFile(join(src.dir, rel), `changed ${crypto.randomUUID()}\n`);
      }
      const second = doneOf(
        await drain(agent.stream("snapshot.create", {
          snapshot_id: "snap-0002",
          volume: src.name,
          ...repo,
          tags: ["volume:src", "org:1"],
          host_tag: "worker-1",
        })),
      );
      // The restore rewrote every file (new inodes and ctimes), so restic reads them all again;
      assert.ok(second.files_changed >= 20, `${second.files_changed} files changed`);
      // deduplication still stores only the changed content and the folders' new metadata:
      // under 1 % of the 200 MB read.
      assert.ok(
        second.data_added < second.total_bytes_processed / 100,
        `second snapshot added ${second.data_added} of ${second.total_bytes_processed} bytes`,
      );

      const listed = await agent.call<{ snapshots: { id: string; tags: string[] }[] }>(
        "snapshots.list",
        { ...repo, tags: ["volume:src"] },
      );
      assert.deepEqual(
        listed.snapshots.map((s) => s.id).sort(),
        [done.restic_id, second.restic_id].sort(),
      );
      assert.deepEqual(listed.snapshots[0].tags.sort(), ["org:1", "volume:src"]);

      // A dry run answers what the policy would remove and removes nothing.
      const preview = await agent.call<{ removed: string[]; kept: string[] }>("snapshot.forget", {
        ...repo,
        keep: { last: 1 },
        tags: ["volume:src"],
        dry_run: true,
      });
      assert.deepEqual(preview.removed, [done.restic_id]);
      assert.deepEqual(preview.kept, [second.restic_id]);
      const still = await agent.call<{ snapshots: { id: string }[] }>("snapshots.list", repo);
      assert.equal(still.snapshots.length, 2, "a dry run removed snapshots");

      const forgot = await agent.call<{ removed: string[]; kept: string[] }>("snapshot.forget", {
        ...repo,
        keep: { last: 1 },
        tags: ["volume:src"],
      });
      assert.deepEqual(forgot.removed, [done.restic_id]);
      assert.deepEqual(forgot.kept, [second.restic_id]);
      const after = await agent.call<{ snapshots: { id: string }[] }>("snapshots.list", repo);
      assert.deepEqual(after.snapshots.map((s) => s.id), [second.restic_id]);

      assert.deepEqual(
        await agent.call("snapshot.check", { ...repo, read_data_subset: "100%" }),
        { ok: true },
      );

      // Abort mid-backup: no done, a stale lock; a new snapshot succeeds beside it, unlock removes it.
      const big = await volume("big");
      using rnd = await Deno.open(join(big.dir, "random.bin"), { create: true, write: true });
      const block = new Uint8Array(1 << 20);
      for (let i = 0; i < 300; i++) {
        crypto.getRandomValues(block.subarray(0, 65536));
        for (let j = 65536; j < block.length; j += 65536) {
          block.set(block.subarray(0, 65536).map((b) => b ^ (j >> 16) ^ i), j);
        }
        await rnd.write(block);
      }
      const cancelled = agent.stream("snapshot.create", {
        snapshot_id: "snap-0003",
        volume: big.name,
        ...repo,
        tags: ["volume:big"],
        host_tag: "worker-1",
      });
      const partial: SnapshotChunk[] = [];
      for await (const c of cancelled) {
        partial.push(c as SnapshotChunk);
        if ((c as SnapshotChunk).kind === "progress") cancelled.cancel();
      }
      assert.ok(!partial.some((c) => c.kind === "done"), "an aborted backup reported done");
      const locks = await Array.fromAsync(Deno.readDir(join(target.path, "locks")));
      assert.ok(locks.length >= 1, "the killed backup left no lock (was it killed?)");
      const retried = doneOf(
        await drain(agent.stream("snapshot.create", {
          snapshot_id: "snap-0004",
          volume: big.name,
          ...repo,
          tags: ["volume:big"],
          host_tag: "worker-1",
        })),
      );
      assert.ok(retried.total_bytes_processed >= 300 * 1024 * 1024);
      // The dead run's lock is shared: it did not stop the retry. The hub removes it after a
      // failed run (lib/snapshots/runs.ts) with snapshot.unlock.
      await agent.call("snapshot.unlock", repo);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(join(target.path, "locks"))), []);

      // A tampered pack file: check names the damage.
      const packs: string[] = [];
      for await (const d of Deno.readDir(join(target.path, "data"))) {
        for await (const p of Deno.readDir(join(target.path, "data", d.name))) {
          packs.push(join(target.path, "data", d.name, p.name));
        }
      }
      const victim = packs.sort()[0];
      await Deno.chmod(victim, 0o600);
      using pack = await Deno.open(victim, { read: true, write: true });
      await pack.seek(10, Deno.SeekMode.Start);
      await pack.write(new TextEncoder().encode("TAMPERED"));
      const checked = await agent.call<{ ok: boolean; errors?: string[] }>("snapshot.check", {
        ...repo,
        read_data_subset: "100%",
      });
      assert.equal(checked.ok, false);
      const packId = victim.split("/").at(-1)!;
      assert.ok(
        checked.errors!.some((e) => e.includes(packId.slice(0, 8))),
        `no error names pack ${packId}: ${checked.errors!.join(" | ")}`,
      );
      assert.ok(!JSON.stringify(checked).includes(PASSWORD));

      // A wrong password is refused with restic's reason and the password nowhere.
      const wrong = await agent.call("snapshots.list", { target, password: "not-the-password" })
        .then(() => null, (e: Error) => e);
      assert.match(String(wrong?.message), /wrong password|no key found/i);
    }),
});

Deno.test({
  name: "[docker] snapshot.create/restore through an sftp target on a local sshd",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async ({ agent, root, volume, docker }) => {
      const keyFile = join(root, "client_key");
      const keygen = await new Deno.Command("ssh-keygen", {
        args: ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", keyFile],
      }).output();
      assert.ok(keygen.success);
      const server = await startSshGitServer({
        authorizedKey: await Deno.readTextFile(`${keyFile}.pub`),
        root,
        sftp: true,
      });
      try {
        const target = {
          kind: "sftp",
          host: "127.0.0.1",
          port: server.port,
          user: "root",
          path: join(root, "sftp-repo"),
          private_key: await Deno.readTextFile(keyFile),
          known_hosts: `[127.0.0.1]:${server.port} ${server.hostKey}`,
        };
        const src = await volume("sftp-src");
        await Deno.mkdir(join(src.dir, "d"));
        await Deno.writeTextFile(join(src.dir, "d", "a b.txt"), "over sftp\n");
        await Deno.symlink("d/a b.txt", join(src.dir, "link"));
        const before = await manifest(src.dir);
        const made = doneOf(
          await drain(agent.stream("snapshot.create", {
            snapshot_id: "snap-sftp1",
            volume: src.name,
            target,
            password: PASSWORD,
            tags: ["volume:sftp"],
            host_tag: "worker-1",
          })),
        );
        const destName = testName(SUITE, "sftp-dest");
        doneOf(
          await drain(agent.stream("snapshot.restore", {
            restic_id: made.restic_id,
            target,
            password: PASSWORD,
            volume: destName,
            labels: testLabels(SUITE),
          })),
        );
        assert.deepEqual(await manifest((await docker.inspectVolume(destName)).Mountpoint), before);

        // A host key other than the pinned one is refused.
        const other = await drain(agent.stream("snapshot.create", {
          snapshot_id: "snap-sftp2",
          volume: src.name,
          target: {
            ...target,
            known_hosts:
              `[127.0.0.1]:${server.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2gO3pNKcQ9yq4bTPw6NgFxqZmR3ZKJ2hO1oOqZbZx`,
          },
          password: PASSWORD,
          tags: ["volume:sftp"],
          host_tag: "worker-1",
        }));
        assert.equal(other.at(-1)?.kind, "failed");
      } finally {
        await server.close();
      }
    }),
});
