/**
 * Issue 19's "done when", as a new user would go through it with the API and the pages, on both
 * dialects, with the real engine (embedded agent), the real restic and a loopback S3 server over
 * HTTPS (s3rver with a throwaway CA — a stand-in for AWS, R2, B2 or Supabase Storage):
 * add an S3 target and test its connection; snapshot a volume and follow its progress; schedule
 * daily snapshots with retention and see the scheduled one run and the policy applied; mark the
 * volume "snapshot on stop", stop its container and see the automatic snapshot; restore into a
 * fresh volume and into the original; see the sync state and sizes on the storage page; and a NAS
 * whose newest backup is older than its threshold raise an alert.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { userInfo } from "node:os";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { startS3Server } from "./support/s3_server.ts";
import { startSshGitServer } from "./support/ssh_git_server.ts";
import { freePort } from "./support/process.ts";
import { manifest, volumeInUse } from "./support/volume_files.ts";
import { storageRunEnded } from "./support/snapshots.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";

const SUITE = "snapshots-e2e";
const ignored = dockerTestsIgnored(SUITE);
const HOUR = 3_600_000;
const BASE = "/api/v1/orgs/acme/storage";

dbTest(
  "[e2e] [docker] snapshots as a new user: S3 target tested, snapshot with progress, daily schedule with retention, snapshot on stop, restore into a fresh volume and the original, storage page sync and sizes, stale NAS alert",
  async (h) => {
    if (ignored) return;
    const s3 = await startS3Server({ bucket: "capstan-e2e" });
    const f = await dockerFixture(h, SUITE, undefined, { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1" });
    const s = f.t.services;
    const docker = f.agent.docker;
    const events: { topic: string; data: { kind: string } }[] = [];
    const unsubscribe = s.bus.subscribe((topic, data) =>
      void events.push({ topic, data: data as { kind: string } })
    );
    const volName = testName(SUITE, "data");
    const freshName = testName(SUITE, "fresh");
    const nasRoot = await Deno.makeTempDir({ prefix: "capstan-e2e-nas-" });
    let containerId: string | undefined;
    /** Containers and volumes made through the form (same name). */
    const extra: string[] = [];
    let sshd: Awaited<ReturnType<typeof startSshGitServer>> | undefined;
    const ended = (kind: "snapshots" | "restores", id: string) =>
      storageRunEnded((path) => f.call("viewer", "GET", path), kind, id);
    const snapshotsOf = async (volumeId: string) =>
      (await f.call("viewer", "GET", `${BASE}/snapshots?volume_id=${volumeId}`)).body.items as {
        id: string;
        trigger: string;
        status: string;
        error: string | null;
      }[];
    try {
      // An S3 target, its connection tested (write, read, delete a probe over HTTPS).
      let r = await f.call("admin", "POST", `${BASE}/targets`, {
        kind: "s3",
        name: "offsite",
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        prefix: "acme",
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        path_style: true,
        ca_pem: s3.caPem,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.is_default, true, "the first target is the default");
      const targetId = r.body.id as string;
      r = await f.call("admin", "POST", `${BASE}/targets/${targetId}/test`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.ok, true, JSON.stringify(r.body));

      // A volume in use by a container.
      const used = await volumeInUse(docker, SUITE, volName, 64);
      const cid = containerId = used.containerId;
      const v = { Mountpoint: used.mountpoint };

      // A snapshot, with progress on its topic.
      r = await f.call("member", "POST", `${BASE}/snapshots`, {
        host_id: f.hostId,
        volume: volName,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const first = await ended("snapshots", r.body.id);
      assert.equal(first.status, "complete", first.error);
      assert.equal(first.target_id, targetId);
      const topic = `org:${f.org.id}:snapshot.${first.id}`;
      const seen = events.filter((e) => e.topic === topic).map((e) => e.data.kind);
      assert.ok(seen.includes("progress"), `no progress on ${topic}: ${seen}`);
      assert.equal(seen.at(-1), "state");
      const snapshotted = await manifest(v.Mountpoint);
      const volumeId = first.volume_id as string;

      // A daily schedule with retention; its run (made due) snapshots and applies the policy.
      r = await f.call("member", "POST", `${BASE}/schedules`, {
        host_id: f.hostId,
        volume: volName,
        cron: "0 2 * * *",
        timezone: "Europe/Berlin",
        keep_last: 1,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(r.body.next_run_at > Date.now(), "the next run is ahead");
      await h.db.updateTable("snapshot_schedules").set({ next_run_at: Date.now() - 1000 })
        .where("id", "=", r.body.id).execute();
      const due = await s.snapshotSchedules.runDue();
      assert.equal(due.started, 1);
      await due.done;
      let list = await snapshotsOf(volumeId);
      assert.deepEqual(
        list.map((x) => [x.trigger, x.status]),
        [["schedule", "complete"]],
        "keep_last 1 left the scheduled snapshot alone",
      );
      r = await f.call("viewer", "GET", `${BASE}/schedules/${r.body.id}`);
      assert.equal(r.body.last_error, null);
      assert.ok(r.body.next_run_at > Date.now());

      // Snapshot on stop: the user stops the container, the snapshot follows.
      r = await f.call("member", "PATCH", `${BASE}/volumes/${volumeId}`, { on_stop: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      r = await f.call(
        "member",
        "POST",
        `/api/v1/orgs/acme/hosts/${f.hostId}/containers/${cid}/stop`,
        {},
      );
      assert.ok(r.status < 300, JSON.stringify(r.body));
      const onStop = await eventually(
        async () => {
          const x = (await snapshotsOf(volumeId)).find((i) => i.trigger === "stop");
          return x && x.status !== "running" ? x : undefined;
        },
        "the snapshot on stop",
        300_000,
      );
      assert.equal(onStop.status, "complete", onStop.error ?? "");

      // Restore into a fresh volume: the same files.
      r = await f.call("member", "POST", `${BASE}/restores`, {
        snapshot_id: onStop.id,
        kind: "new",
        volume: freshName,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal((await ended("restores", r.body.id)).status, "complete");
      const fresh = await docker.inspectVolume(freshName);
      assert.deepEqual(await manifest(fresh.Mountpoint), snapshotted);

      // Restore into the original after losing data there.
      await Deno.remove(join(v.Mountpoint, "big.bin"));
      await Deno.writeTextFile(join(v.Mountpoint, "hello.txt"), "changed since\n");
      r = await f.call("member", "POST", `${BASE}/restores`, {
        snapshot_id: onStop.id,
        kind: "same",
        confirm: true,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal((await ended("restores", r.body.id)).status, "complete");
      assert.deepEqual(await manifest(v.Mountpoint), snapshotted);

      // "Restore from snapshot" when making a container: its volume starts with the data.
      const startedName = testName(SUITE, "started");
      const made = await f.t.request("/o/acme/containers/new", {
        method: "POST",
        cookie: f.users.member.cookie,
        body: new URLSearchParams({
          host: f.hostId,
          image: TEST_IMAGE,
          name: startedName,
          cmd: "sleep\n1000000",
          volumes: `${startedName}:/data`,
          labels: Object.entries(testLabels(SUITE)).map(([k, x]) => `${k}=${x}`).join("\n"),
          restore_snapshot: onStop.id,
          start: "on",
        }),
      });
      assert.equal(made.status, 303, await made.text());
      extra.push(startedName);
      const started = await docker.inspectVolume(startedName);
      assert.deepEqual(await manifest(started.Mountpoint), snapshotted);
      assert.equal(started.Labels?.["capstan.restored-from"], onStop.id);

      // The storage page: the volume synced, with its size.
      const page = await f.t.request("/o/acme/storage", { cookie: f.users.viewer.cookie });
      assert.equal(page.status, 200);
      const html = await page.text();
      const row = html.match(new RegExp(`<tr[^>]*data-volume="${volName}"[\\s\\S]*?</tr>`))?.[0];
      assert.ok(row, "the volume's row");
      assert.match(row, /data-sync="synced"/);
      assert.match(row, /data-size="">6\d\.\d MiB|data-size[^>]*>6\d\.\d MiB/);
      list = await snapshotsOf(volumeId);
      assert.equal(list.filter((x) => x.status === "complete").length, 2);

      // A NAS whose newest backup of one site is 72 hours old: an alert.
      await Deno.mkdir(join(nasRoot, "shop"), { recursive: true });
      await Deno.writeTextFile(join(nasRoot, "shop", "db.sql"), "old");
      const old = new Date(Date.now() - 72 * HOUR);
      await Deno.utime(join(nasRoot, "shop", "db.sql"), old, old);
      await Deno.utime(join(nasRoot, "shop"), old, old);
      const port = freePort();
      r = await f.call("admin", "POST", `${BASE}/nas`, {
        name: "office",
        host: "127.0.0.1",
        port,
        user: userInfo().username,
        backup_root: nasRoot,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      sshd = await startSshGitServer({ authorizedKey: r.body.public_key, root: nasRoot, port });
      r = await f.call("admin", "POST", `${BASE}/nas/${r.body.id}/check`, {});
      assert.equal(r.body.stale_sites, 1, JSON.stringify(r.body));
      await s.alerts.idle();
      const alerts = (await f.call("viewer", "GET", "/api/v1/orgs/acme/alerts")).body.items as {
        title: string;
        state: string;
      }[];
      assert.ok(
        alerts.some((a) =>
          /last backup of shop 7\d hours ago/.test(a.title) && a.state === "firing"
        ),
        JSON.stringify(alerts),
      );

      // The S3 secret never left the hub: not in an answer, an event or the audit log.
      const said = JSON.stringify(events) +
        JSON.stringify((await f.call("admin", "GET", `${BASE}/targets`)).body) +
        JSON.stringify(await f.auditRows("storage_target"));
      // (s3rver's key id and secret are the same word, so the field is what must not appear.)
      assert.ok(!/secret_access_key"\s*:\s*"/.test(said), "the S3 secret key leaked");
    } finally {
      unsubscribe();
      await s.snapshotRuns.idle();
      await s.snapshotTriggers.idle();
      await sshd?.close();
      if (containerId) await docker.removeContainer(containerId, { force: true }).catch(() => {});
      for (const name of extra) await docker.removeContainer(name, { force: true }).catch(() => {});
      for (const name of [freshName, volName, ...extra]) {
        await docker.removeVolume(name, { force: true }).catch(() => {});
      }
      await f.close();
      await s3.close();
      await Deno.remove(nasRoot, { recursive: true }).catch(() => {});
    }
  },
);
