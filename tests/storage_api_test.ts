/**
 * Volume snapshots through the storage API on both dialects, on the real engine through the
 * embedded agent with the real restic: a snapshot of a volume with progress on its realtime topic,
 * complete with files and bytes; a second one adds little (deduplication); a restore into a new
 * volume and into the same one (its container stopped and started again) byte-identical; a bulk
 * delete previewed then a snapshot deleted (gone from restic too); a snapshot killed mid-way
 * leaves no complete record and a retry works; snapshot on stop; roles, org isolation and bad
 * input. Then the same round trip to S3 (s3rver over HTTPS on loopback, its CA given).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { startS3Server } from "./support/s3_server.ts";
import { dockerTestsIgnored, eventually, testLabels, testName } from "../lib/docker/testing.ts";
import { SYSTEM } from "../lib/audit/service.ts";
import { manifest, randomFile, smallFiles, volumeInUse } from "./support/volume_files.ts";
import { storageRunEnded } from "./support/snapshots.ts";

const SUITE = "storage-api";
const ignored = dockerTestsIgnored(SUITE);
const MB = 1 << 20;

type Fixture = Awaited<ReturnType<typeof dockerFixture>>;
const BASE = "/api/v1/orgs/acme/storage";

/** Waits for a snapshot or restore to end; answers it. */
function ended(f: Fixture, kind: "snapshots" | "restores", id: string) {
  return storageRunEnded((path) => f.call("viewer", "GET", path), kind, id);
}

/** Restores a snapshot into the new volume `volume` as a member; answers the ended restore. */
async function restoreNew(f: Fixture, snapshotId: string, volume: string) {
  const r = await f.call("member", "POST", `${BASE}/restores`, {
    snapshot_id: snapshotId,
    kind: "new",
    volume,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await ended(f, "restores", r.body.id);
  assert.equal(done.status, "complete", done.error);
  return done;
}

dbTest(
  "[docker] storage API: snapshot with progress, dedup, restore new and same, delete with preview, killed snapshot and retry, snapshot on stop, roles, isolation, bad input",
  async (h) => {
    if (ignored) return;
    const snapDir = await Deno.makeTempDir({ prefix: "capstan-snapdir-" });
    const f = await dockerFixture(h, SUITE, undefined, { CAPSTAN_SNAPSHOT_DIR: snapDir });
    const s = f.t.services;
    const docker = f.agent.docker;
    const events: { topic: string; data: unknown }[] = [];
    const unsubscribe = s.bus.subscribe((topic, data) => void events.push({ topic, data }));
    const base = BASE;
    const volName = testName(SUITE, "data");
    const newName = testName(SUITE, "copy");
    let containerId: string | undefined;
    try {
      await s.storageTargets.create(SYSTEM, f.org.id, { kind: "filesystem", name: "local" });
      // A container of the test image uses the volume (and writes into it).
      const used = await volumeInUse(docker, SUITE, volName, 200);
      const cid = containerId = used.containerId;
      const v = { Mountpoint: used.mountpoint };
      const original = await manifest(v.Mountpoint);

      // Bad input, roles, isolation.
      let r = await f.call("member", "POST", `${base}/snapshots`, {
        host_id: f.hostId,
        volume: "../etc",
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.ok(r.body.error.fields.volume, JSON.stringify(r.body));
      r = await f.call("member", "POST", `${base}/snapshots`, { host_id: f.hostId });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.volume);
      r = await f.call("viewer", "POST", `${base}/snapshots`, {
        host_id: f.hostId,
        volume: volName,
      });
      assert.equal(r.status, 403);
      r = await f.call("member", "POST", `${base}/snapshots`, {
        host_id: f.hostId,
        volume: testName(SUITE, "missing"),
      });
      assert.equal(r.status, 404);
      const globex = await f.t.user("owner@globex.io", { org: "globex", role: "owner" });
      const asGlobex = async (method: string, path: string, json?: unknown) => {
        const res = await f.t.request(path, { method, cookie: globex.cookie, json });
        return { status: res.status, body: await res.json().catch(() => null) };
      };
      r = await asGlobex("POST", "/api/v1/orgs/globex/storage/snapshots", {
        host_id: f.hostId,
        volume: volName,
      });
      assert.equal(r.status, 404, "another org's host");

      // 1. A snapshot: 202 running, progress on its topic, then complete.
      const take = async () => {
        const res = await f.call("member", "POST", `${base}/snapshots`, {
          host_id: f.hostId,
          volume: volName,
        });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.equal(res.body.status, "running");
        return res.body.id as string;
      };
      const first = await take();
      const again = await f.call("member", "POST", `${base}/snapshots`, {
        host_id: f.hostId,
        volume: volName,
      });
      assert.equal(again.status, 409, "a second snapshot of the running volume");
      const s1 = await ended(f, "snapshots", first);
      assert.equal(s1.status, "complete", s1.error);
      assert.match(s1.restic_id, /^[0-9a-f]{64}$/);
      assert.ok(s1.files >= 203, `${s1.files} files`);
      assert.ok(s1.bytes_processed >= 200 * MB);
      assert.ok(s1.bytes_added > 100 * MB, "the first snapshot stores the data");
      assert.equal(s1.trigger, "manual");
      const topic = `org:${f.org.id}:snapshot.${first}`;
      const mine = events.filter((e) => e.topic === topic).map((e) => e.data as { kind: string });
      assert.ok(mine.some((e) => e.kind === "progress"), "no progress event on the topic");
      assert.deepEqual(mine.at(-1), { kind: "state", id: first, status: "complete", error: null });
      const p = mine.find((e) => e.kind === "progress") as unknown as Record<string, number>;
      for (const k of ["bytes_done", "total_bytes", "percent", "rate"]) {
        assert.equal(typeof p[k], "number", k);
      }

      // The storage page's list: the volume with its size, last snapshot and sync state.
      r = await f.call("viewer", "GET", `${base}/volumes?host_id=${f.hostId}`);
      assert.equal(r.status, 200);
      const listed = r.body.items.find((x: { volume: string }) => x.volume === volName);
      assert.equal(listed.sync_state, "synced");
      assert.equal(listed.synced_snapshot_id, first);
      assert.equal(listed.size_bytes, s1.bytes_processed);
      assert.ok(listed.last_snapshot_at >= s1.started_at);
      assert.deepEqual(listed.containers.map((x: { id: string }) => x.id), [containerId]);
      r = await asGlobex("GET", "/api/v1/orgs/globex/storage/volumes");
      assert.equal(r.status, 200);
      assert.equal(r.body.items.length, 0, "another org sees no volume of acme");
      r = await asGlobex("GET", `/api/v1/orgs/globex/storage/snapshots/${first}`);
      assert.equal(r.status, 404);

      // 2. A second snapshot adds little: deduplication.
      await Deno.writeTextFile(join(v.Mountpoint, "docs/new.txt"), "a new file\n");
      const s2 = await ended(f, "snapshots", await take());
      assert.equal(s2.status, "complete", s2.error);
      assert.ok(
        s2.bytes_added < s2.bytes_processed / 100,
        `second snapshot added ${s2.bytes_added} of ${s2.bytes_processed}`,
      );
      const withNew = await manifest(v.Mountpoint);

      // 3. Restore into a new volume: identical; into an existing name: 409.
      r = await f.call("member", "POST", `${base}/restores`, {
        snapshot_id: s2.id,
        kind: "new",
        volume: volName,
      });
      assert.equal(r.status, 409, JSON.stringify(r.body));
      r = await f.call("member", "POST", `${base}/restores`, {
        snapshot_id: s2.id,
        kind: "new",
        volume: "bad/name",
      });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.volume);
      await restoreNew(f, s2.id, newName);
      const copy = await docker.inspectVolume(newName);
      assert.equal(copy.Labels?.["capstan.restored-from"], s2.id);
      assert.deepEqual(await manifest(copy.Mountpoint), withNew);

      // 4. Restore into the same volume: confirmation needed; the container stops and runs again.
      r = await f.call("member", "POST", `${base}/restores`, { snapshot_id: first, kind: "same" });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.confirm);
      for await (const e of Deno.readDir(v.Mountpoint)) {
        if (e.name !== "written.txt") {
          await Deno.remove(join(v.Mountpoint, e.name), { recursive: true });
        }
      }
      await Deno.writeTextFile(join(v.Mountpoint, "junk.txt"), "junk\n");
      const startedBefore = (await docker.inspectContainer(cid)).State.StartedAt;
      r = await f.call("member", "POST", `${base}/restores`, {
        snapshot_id: first,
        kind: "same",
        confirm: true,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const r2 = await ended(f, "restores", r.body.id);
      assert.equal(r2.status, "complete", r2.error);
      const after = await docker.inspectContainer(cid);
      assert.equal(after.State.Running, true, "the container runs again");
      assert.notEqual(after.State.StartedAt, startedBefore, "the container was stopped meanwhile");
      // The container wrote its file again when it started; the rest is the first snapshot's.
      assert.deepEqual(await manifest(v.Mountpoint), original);

      // 5. Delete in bulk with a preview, then one snapshot (gone from restic too).
      r = await f.call("member", "POST", `${base}/snapshots/delete`, {
        ids: [first],
        preview: true,
      });
      assert.equal(r.status, 403, "members do not delete snapshots");
      r = await f.call("admin", "POST", `${base}/snapshots/delete`, {
        volume_id: s1.volume_id,
        keep: { last: 1 },
        preview: true,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.removed, [first]);
      assert.deepEqual(r.body.kept, [s2.id]);
      assert.equal(r.body.snapshots[0].id, first);
      r = await f.call("viewer", "GET", `${base}/snapshots?volume_id=${s1.volume_id}`);
      assert.equal(r.body.items.length, 2, "a preview deleted something");
      r = await f.call("admin", "DELETE", `${base}/snapshots/${first}`);
      assert.equal(r.status, 204, JSON.stringify(r.body));
      r = await f.call("viewer", "GET", `${base}/snapshots/${first}`);
      assert.equal(r.status, 404);
      const opened = await s.storageTargets.open(f.org.id, null, (o) => join(snapDir, o));
      const inRestic = await f.agent.conn.call<{ snapshots: { id: string }[] }>(
        "snapshots.list",
        { target: opened.target, password: opened.password },
      );
      assert.deepEqual(inRestic.snapshots.map((x) => x.id), [s2.restic_id]);

      // 6. A snapshot killed mid-way: failed, no restic id; the retry completes.
      // Big enough that restic is still reading when its first progress has crossed a loaded
      // machine (a snapshot that ended first could not be killed).
      await randomFile(join(v.Mountpoint, "bigger.bin"), 1200);
      const killed = await take();
      await eventually(
        () =>
          Promise.resolve(
            events.some((e) =>
              e.topic === `org:${f.org.id}:snapshot.${killed}` &&
              (e.data as { kind: string }).kind === "progress"
            ) || undefined,
          ),
        "the snapshot's first progress",
        120_000,
      );
      const pids = await eventually(
        async () => {
          const found = await resticPids(volName);
          return found.length ? found : undefined;
        },
        "restic running the snapshot",
        30_000,
      );
      for (const pid of pids) Deno.kill(pid, "SIGKILL");
      const k = await ended(f, "snapshots", killed);
      assert.equal(k.status, "failed");
      assert.equal(k.restic_id, null);
      assert.ok(k.error);
      r = await f.call("viewer", "GET", `${base}/volumes?host_id=${f.hostId}`);
      assert.equal(
        r.body.items.find((x: { volume: string }) => x.volume === volName).sync_state,
        "failed",
      );
      const retry = await ended(f, "snapshots", await take());
      assert.equal(retry.status, "complete", retry.error);

      // 7. Snapshot on stop: the user stops the container, a snapshot follows.
      r = await f.call("member", "PATCH", `${base}/volumes/${f.hostId}:${volName}`, {
        on_stop: true,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.on_stop, true);
      r = await f.call("member", "PATCH", `${base}/volumes/${r.body.id}`, { mode: "weird" });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.fields.mode);
      r = await f.call(
        "member",
        "POST",
        `/api/v1/orgs/acme/hosts/${f.hostId}/containers/${containerId}/stop`,
        {},
      );
      assert.ok(r.status < 300, JSON.stringify(r.body));
      const onStop = await eventually(
        async () => {
          const list = await f.call("viewer", "GET", `${base}/snapshots?volume_id=${s1.volume_id}`);
          const x = list.body.items.find((i: { trigger: string; status: string }) =>
            i.trigger === "stop" && i.status !== "running"
          );
          return x;
        },
        "the snapshot on stop",
        300_000,
      );
      assert.equal(onStop.status, "complete", onStop.error);

      // Every action is in the audit log.
      for (const action of ["snapshot.started", "snapshot.restore_new", "snapshot.restore_same"]) {
        assert.ok((await f.auditRows(action)).length > 0, action);
      }
      assert.ok((await f.auditRows("snapshot.deleted")).some((x) => x.status === "ok"));
      const text = JSON.stringify(events) + JSON.stringify(await f.auditRows("snapshot"));
      assert.ok(!text.includes(opened.password), "the repository password leaked");
    } finally {
      unsubscribe();
      await s.snapshotRuns.idle();
      await s.snapshotTriggers.idle();
      if (containerId) await docker.removeContainer(containerId, { force: true }).catch(() => {});
      await docker.removeVolume(newName, { force: true }).catch(() => {});
      await f.close();
      await Deno.remove(snapDir, { recursive: true }).catch(() => {});
    }
  },
);

/** The pids of restic processes backing up `volume` (its tag is on their command line). */
async function resticPids(volume: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    const args = cmd.split("\0");
    if (args.includes("backup") && args.includes(`capstan-volume=${volume}`)) {
      out.push(Number(e.name));
    }
  }
  return out;
}

dbTest(
  "[docker] storage API: snapshot to S3 over HTTPS (s3rver, its CA) and restore byte-identical",
  async (h) => {
    if (ignored) return;
    const s3 = await startS3Server({ bucket: "capstan-snaps" });
    const f = await dockerFixture(h, `${SUITE}-s3`);
    const s = f.t.services;
    const docker = f.agent.docker;
    const base = BASE;
    const volName = testName(`${SUITE}-s3`, "data");
    const newName = testName(`${SUITE}-s3`, "copy");
    try {
      const t = await s.storageTargets.create(SYSTEM, f.org.id, {
        kind: "s3",
        name: "s3",
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        prefix: "acme",
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        path_style: true,
        ca_pem: s3.caPem,
      });
      const v = await docker.createVolume({ name: volName, labels: testLabels(`${SUITE}-s3`) });
      await smallFiles(v.Mountpoint);
      await randomFile(join(v.Mountpoint, "big.bin"), 8);
      const before = await manifest(v.Mountpoint);
      let r = await f.call("member", "POST", `${base}/snapshots`, {
        host_id: f.hostId,
        volume: volName,
        target_id: t.id,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const snap = await ended(f, "snapshots", r.body.id);
      assert.equal(snap.status, "complete", snap.error);
      assert.equal(snap.target_id, t.id);
      await restoreNew(f, snap.id, newName);
      assert.deepEqual(await manifest((await docker.inspectVolume(newName)).Mountpoint), before);
      // A verification restore goes into a scratch volume that is removed after.
      r = await f.call("member", "POST", `${base}/restores`, {
        snapshot_id: snap.id,
        kind: "verify",
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const verified = await ended(f, "restores", r.body.id);
      assert.equal(verified.status, "complete", verified.error);
      await assert.rejects(docker.inspectVolume(verified.volume));
    } finally {
      await s.snapshotRuns.idle();
      await docker.removeVolume(newName, { force: true }).catch(() => {});
      await f.close();
      await s3.close();
    }
  },
);
