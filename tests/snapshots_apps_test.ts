/**
 * Snapshots of app volumes on the real engine with the real restic, through the hub's API on both
 * dialects: an app (adopted single-node Swarm, the embedded agent's engine) mounts a named volume;
 * a snapshot of it is tagged with the app; a restore into the same volume stops the app (scaled to
 * 0) first, replaces the data and starts it again (its own stop takes no snapshot on stop); with
 * "snapshot on stop" marked, the user's stop of the app is followed by a snapshot with trigger
 * "stop". Then restore on start on a 2-node Swarm (netns engines, each its own host with a real
 * agent session): an app whose volume is marked sync, snapshotted on node A, is moved to node B;
 * Swarm makes B's volume empty, the hub restores the snapshot into it (the app stopped around it)
 * and B's copy is synced; starting the app again on B restores nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { cleanupApps } from "./support/apps.ts";
import { type ApiGet, storageRunEnded } from "./support/snapshots.ts";
import { manifest } from "./support/volume_files.ts";
import { twoNodeHub } from "./support/two_nodes.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE, testName } from "../lib/docker/testing.ts";
import { createDockerClient, type DockerClient } from "../lib/docker/client.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";
import { SYSTEM } from "../lib/audit/service.ts";

const SUITE = "snapshots-apps";
const ignored = dockerTestsIgnored(SUITE);
const STORAGE = "/api/v1/orgs/acme/storage";
const APPS = "/api/v1/orgs/acme/apps";

/** A service that only keeps its volume mounted (and stops at once on SIGTERM). */
export function volumeService(volume: string, extra: Record<string, unknown> = {}) {
  return {
    name: "web",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: ["trap 'exit 0' TERM; sleep 1000000 & wait"],
    replicas: 1,
    volumes: [{ name: volume, target: "/data" }],
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
    ...extra,
  };
}

/** A few files with a folder and a symlink. */
export async function appFiles(dir: string, tag: string) {
  await Deno.mkdir(join(dir, "docs"), { recursive: true });
  for (let i = 0; i < 20; i++) {
    await Deno.writeTextFile(join(dir, "docs", `file ${i}.txt`), `${tag} ${i}\n`.repeat(i + 1));
  }
  await Deno.symlink("docs/file 1.txt", join(dir, "link"));
}

dbTest(
  "[docker] snapshots of an app volume: snapshot tagged with the app, restore into the same volume stops and starts the app, snapshot on the app's stop",
  async (h) => {
    if (ignored) return;
    const snapDir = await Deno.makeTempDir({ prefix: "capstan-snapdir-" });
    const f = await dockerFixture(h, SUITE, undefined, { CAPSTAN_SNAPSHOT_DIR: snapDir });
    const s = f.t.services;
    const docker = createDockerClient({ timeoutMs: 120_000 });
    const volume = testName(SUITE, "data");
    const get = (path: string) => f.call("viewer", "GET", path);
    const t0 = performance.now();
    const lap = (what: string) =>
      console.log(`${SUITE}: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      await f.adoptCluster();
      await s.storageTargets.create(SYSTEM, f.org.id, { kind: "filesystem", name: "local" });
      const name = `snap-${crypto.randomUUID().slice(0, 6)}`;
      let r = await f.call("member", "POST", APPS, {
        name,
        spec: { services: [volumeService(volume)] },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const appId: string = r.body.app.id;
      const settled = () => appSettled(get, appId);
      const task = () => runningTask(docker, appId);
      let app = await settled();
      assert.equal(app.latest_deployment.status, "running", app.latest_deployment.reason);
      const first = await task();
      lap("app running");

      const mount = (await docker.inspectVolume(volume)).Mountpoint;
      await appFiles(mount, "original");
      const original = await manifest(mount);

      // The storage page knows the volume as the app's once the container cache has the task.
      await eventually(
        async () => {
          const v = await get(`${STORAGE}/volumes?host_id=${f.hostId}`);
          const row = v.body.items.find((x: { volume: string }) => x.volume === volume);
          return row?.app_id === appId || undefined;
        },
        "the volume listed as the app's",
        60_000,
      );
      r = await f.call("member", "POST", `${STORAGE}/snapshots`, { host_id: f.hostId, volume });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const snap = await storageRunEnded(get, "snapshots", r.body.id);
      assert.equal(snap.status, "complete", snap.error);
      assert.equal(snap.app_id, appId, "the snapshot is the app's");
      lap("snapshot complete");

      // Snapshot on stop is marked now: the restore's own stop of the app must not take one.
      r = await f.call("member", "PATCH", `${STORAGE}/volumes/${f.hostId}:${volume}`, {
        on_stop: true,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const volumeId: string = r.body.id;
      assert.equal(volumeId, snap.volume_id);

      // Restore into the same volume: the app stops first, then runs again on the snapshot's data.
      await Deno.remove(join(mount, "docs"), { recursive: true });
      await Deno.writeTextFile(join(mount, "junk.txt"), "junk\n");
      const deploymentsBefore = (await get(`${APPS}/${appId}/deployments`)).body.items.length;
      r = await f.call("member", "POST", `${STORAGE}/restores`, {
        snapshot_id: snap.id,
        kind: "same",
        confirm: true,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const restored = await storageRunEnded(get, "restores", r.body.id);
      assert.equal(restored.status, "complete", restored.error);
      lap("restore same complete");
      assert.deepEqual(await manifest(mount), original);
      app = await settled();
      assert.equal(app.desired_state, "running");
      assert.equal(app.latest_deployment.status, "running", app.latest_deployment.reason);
      const ds = (await get(`${APPS}/${appId}/deployments`)).body.items as {
        number: number;
        trigger: { kind: string };
        status: string;
      }[];
      const since = ds.slice(0, ds.length - deploymentsBefore).map((d) => d.trigger.kind);
      assert.deepEqual(since, ["start", "stop"], "the restore stopped then started the app");
      const second = await task();
      assert.notEqual(second.Id, first.Id, "a new task runs on the restored volume");
      const synced = async () => {
        const v = await get(`${STORAGE}/volumes?host_id=${f.hostId}`);
        return v.body.items.find((x: { volume: string }) => x.volume === volume);
      };
      let row = await synced();
      assert.equal(row.sync_state, "synced");
      assert.equal(row.synced_snapshot_id, snap.id);
      // The restore's stop was no user's stop: no snapshot came of it, none was tried.
      await s.snapshotTriggers.idle();
      let list = await get(`${STORAGE}/snapshots?volume_id=${volumeId}`);
      assert.deepEqual(list.body.items.map((x: { id: string }) => x.id), [snap.id]);
      assert.deepEqual(
        (await f.auditRows("snapshot.started")).filter((x) => x.status !== "ok"),
        [],
        "a snapshot was tried during the restore",
      );

      // Snapshot on stop: the user stops the app, a snapshot with trigger "stop" follows.
      await Deno.writeTextFile(join(mount, "later.txt"), "written before the stop\n");
      r = await f.call("member", "POST", `${APPS}/${appId}/stop`, {});
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const onStop = await eventually(
        async () => {
          list = await get(`${STORAGE}/snapshots?volume_id=${volumeId}`);
          return list.body.items.find((i: { trigger: string; status: string }) =>
            i.trigger === "stop" && i.status !== "running"
          );
        },
        "the snapshot on stop",
        300_000,
      );
      assert.equal(onStop.status, "complete", onStop.error);
      assert.equal(onStop.app_id, appId);
      assert.ok(onStop.files > snap.files, "the snapshot on stop has the file written before");
      lap("snapshot on stop complete");
      app = await settled();
      assert.equal(app.desired_state, "stopped");
      row = await synced();
      assert.equal(row.synced_snapshot_id, onStop.id);
      assert.ok((await f.auditRows("snapshot.restore_same")).some((x) => x.status === "ok"));
    } finally {
      await s.snapshotTriggers.idle();
      await s.snapshotRuns.idle();
      await s.apps.idle();
      await cleanupApps(docker, [f.org.id], SUITE).catch((e) => console.error(e));
      await docker.removeVolume(volume, { force: true }).catch(() => {});
      docker.close();
      await f.close();
      await Deno.remove(snapDir, { recursive: true }).catch(() => {});
    }
  },
);

dbTest(
  "[docker] restore on start: an app with a sync volume moved to the other node of a 2-node Swarm gets its newest snapshot restored there once",
  async (h) => {
    const snapDir = await Deno.makeTempDir({ prefix: "capstan-snapdir-" });
    const hub = await twoNodeHub(h, { CAPSTAN_SNAPSHOT_DIR: snapDir });
    const s = hub.t.services;
    const volume = testName(SUITE, "sync");
    const get = (path: string) => hub.call("viewer", "GET", path);
    const t0 = performance.now();
    const lap = (what: string) =>
      console.log(`${SUITE} 2 nodes: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      await s.storageTargets.create(SYSTEM, hub.org.id, { kind: "filesystem", name: "local" });
      let r = await hub.call("member", "POST", APPS, {
        name: `sync-${crypto.randomUUID().slice(0, 6)}`,
        spec: { services: [volumeService(volume)] },
        migration_policy: "manual",
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const appId: string = r.body.app.id;
      const settled = () => appSettled(get, appId);
      const app = await settled();
      assert.equal(app.latest_deployment.status, "running", app.latest_deployment.reason);
      // A is where Swarm placed the app first (the manual policy pinned it there), B the other.
      const a = hub.nodes.find((n) => n.node === app.latest_deployment.pins.web)!;
      const b = hub.nodes.find((n) => n !== a)!;
      assert.ok(a, JSON.stringify(app.latest_deployment.pins));
      await runningTask(a.engine.docker, appId);
      lap("app running on A");

      const mountA = (await a.engine.docker.inspectVolume(volume)).Mountpoint;
      await appFiles(mountA, "on A");
      const original = await manifest(mountA);
      await eventually(
        async () => {
          const v = await get(`${STORAGE}/volumes?host_id=${a.host.id}`);
          const row = v.body.items.find((x: { volume: string }) => x.volume === volume);
          return row?.app_id === appId || undefined;
        },
        "the volume on A listed as the app's",
        60_000,
      );
      r = await hub.call("member", "POST", `${STORAGE}/snapshots`, { host_id: a.host.id, volume });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const snap = await storageRunEnded(get, "snapshots", r.body.id);
      assert.equal(snap.status, "complete", snap.error);
      r = await hub.call("member", "PATCH", `${STORAGE}/volumes/${snap.volume_id}`, { sync: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.sync, true);
      lap("snapshot on A complete, volume marked sync");
      await assert.rejects(b.engine.docker.inspectVolume(volume), "B has no such volume yet");

      // Move to B: Swarm makes the volume there empty; the restore on start fills it.
      r = await hub.call("member", "POST", `${APPS}/${appId}/move`, {
        service: "web",
        node: b.node,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const restoresOnB = async () =>
        (await get(`${STORAGE}/restores?host_id=${b.host.id}`)).body.items as {
          id: string;
          kind: string;
          status: string;
          snapshot_id: string;
          error: string | null;
        }[];
      const restored = await eventually(
        async () => {
          const [x] = await restoresOnB();
          return x && x.status !== "running" ? x : undefined;
        },
        "the restore on start on B",
        300_000,
      );
      assert.equal(restored.status, "complete", restored.error ?? "");
      assert.equal(restored.kind, "start");
      assert.equal(restored.snapshot_id, snap.id);
      lap("restore on start on B complete");
      const after = await eventually(
        async () => {
          const x = await settled();
          return x.desired_state === "running" && x.latest_deployment.trigger.kind === "start"
            ? x
            : undefined;
        },
        "the app started again after the restore",
        300_000,
      );
      assert.equal(after.latest_deployment.status, "running", after.latest_deployment.reason);
      const kinds = ((await get(`${APPS}/${appId}/deployments`)).body.items as {
        trigger: { kind: string };
      }[]).map((d) => d.trigger.kind);
      assert.deepEqual(kinds.slice(0, 3), ["start", "stop", "move"], "stopped around the restore");
      await runningTask(b.engine.docker, appId);
      assert.deepEqual(
        await a.engine.docker.listContainers({ filters: { label: [`${LABELS.app}=${appId}`] } }),
        [],
        "nothing of the app runs on A any more",
      );
      const mountB = (await b.engine.docker.inspectVolume(volume)).Mountpoint;
      assert.deepEqual(await manifest(mountB), original, "B's volume holds the snapshot's files");
      const rowB = await eventually(async () => {
        const v = await get(`${STORAGE}/volumes?host_id=${b.host.id}`);
        return v.body.items.find((x: { volume: string }) => x.volume === volume);
      }, "B's volume listed");
      assert.equal(rowB.sync_state, "synced");
      assert.equal(rowB.synced_snapshot_id, snap.id);
      assert.equal(rowB.sync, true);
      assert.equal(rowB.app_id, appId);
      lap("app running on B with the snapshot's files");

      // Started again on B: its copy is the newest snapshot's, nothing is restored.
      r = await hub.call("member", "POST", `${APPS}/${appId}/stop`, {});
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal((await settled()).latest_deployment.status, "running");
      r = await hub.call("member", "POST", `${APPS}/${appId}/start`, {});
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal((await settled()).latest_deployment.status, "running");
      const again = await runningTask(b.engine.docker, appId);
      // The hub has heard of the new task's start and the triggers are done with it.
      await eventually(async () => {
        const c = await s.db.selectFrom("containers").select("id")
          .where("id", "=", again.Id).executeTakeFirst();
        return c;
      }, "the new task in the container cache");
      await s.snapshotTriggers.idle();
      await s.snapshotRuns.idle();
      assert.deepEqual((await restoresOnB()).map((x) => x.id), [restored.id], "restored again");
      assert.deepEqual(await manifest(mountB), original);
      lap("second start on B restored nothing");
    } finally {
      await s.snapshotTriggers.idle();
      await s.snapshotRuns.idle();
      await s.apps.idle();
      await hub.close();
      await Deno.remove(snapDir, { recursive: true }).catch(() => {});
    }
  },
  { ignore: ignored || Deno.uid() !== 0 },
);

/** The app once its latest deployment ended. */
function appSettled(get: ApiGet, appId: string) {
  return eventually(
    async () => {
      const a = await get(`${APPS}/${appId}`);
      const d = a.body.latest_deployment;
      return d && d.status !== "pending" && d.status !== "deploying" ? a.body : undefined;
    },
    "the app's deployment to end",
    300_000,
  );
}

/** The app's running task container on an engine. */
function runningTask(docker: DockerClient, appId: string) {
  return eventually(
    async () => {
      const [c] = await docker.listContainers({ filters: { label: [`${LABELS.app}=${appId}`] } });
      return c;
    },
    "the app's task container to run",
    120_000,
  );
}
