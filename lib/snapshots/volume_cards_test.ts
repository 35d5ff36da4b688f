import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import type { AgentConnection } from "../agents/connection.ts";
import type { Db } from "../db/mod.ts";
import { uuidv7 } from "../util/ids.ts";
import { createSnapshotStore, type Snapshot } from "./store.ts";
import type { HostVolume } from "./host_volumes.ts";
import { createVolumeCards, worstSync } from "./volume_cards.ts";

type Store = ReturnType<typeof createSnapshotStore>;

/** A snapshot row of `volumeId` that ended (or runs) as `status`, at `at`. */
async function snapshotOf(
  store: Store,
  orgId: string,
  v: { id: string; host_id: string; volume: string },
  status: Snapshot["status"],
  at: number,
) {
  const s: Snapshot = {
    id: uuidv7(at),
    org_id: orgId,
    volume_id: v.id,
    host_id: v.host_id,
    volume: v.volume,
    app_id: null,
    target_id: "t1",
    restic_id: status === "complete" ? "ab".repeat(32) : null,
    status,
    trigger: "manual",
    mode: "live",
    schedule_id: null,
    files: null,
    files_new: null,
    files_changed: null,
    bytes_processed: null,
    bytes_added: null,
    progress_bytes: status === "running" ? 10 : null,
    progress_total: status === "running" ? 100 : null,
    started_at: at,
    heartbeat_at: at,
    finished_at: status === "running" ? null : at + 1000,
    duration_ms: null,
    error: status === "failed" ? "restic said no" : null,
    created_by: null,
  };
  return await store.insertSnapshot(s);
}

/** Host h1's engine: `data` mounted by c1, `logs` by c1 and c2, `cache` by nobody. */
function engine(calls: string[], answer = true) {
  const conn = {} as AgentConnection;
  const volumes = (_c: AgentConnection, _org: string, hostId: string) => {
    calls.push(hostId);
    if (!answer) return new Promise<HostVolume[]>(() => {});
    const user = (id: string) => ({ id, name: id, state: "running", labels: {} });
    const vol = (name: string, users: string[]): HostVolume => ({
      name,
      driver: "local",
      created: null,
      labels: {},
      users: users.map(user),
      app_id: null,
      service: null,
    });
    return Promise.resolve([
      vol("data", ["c1"]),
      vol("logs", ["c1", "c2"]),
      vol("cache", []),
    ]);
  };
  return { agent: (id: string) => id === "h1" ? conn : undefined, volumes };
}

/** A clock, a store, an org, and cards over `engine(calls, answer)`. */
async function setup(db: Db, calls: string[], answer = true) {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const store = createSnapshotStore(db, clock);
  const orgId = await insertOrg(db, "acme");
  const cards = createVolumeCards({ store, ...engine(calls, answer), now: clock.now });
  return { clock, store, orgId, cards };
}

Deno.test("worstSync: failed > pending > none > synced; nothing answers undefined", () => {
  assert.equal(worstSync([]), undefined);
  assert.equal(worstSync(["synced", "synced"]), "synced");
  assert.equal(worstSync(["synced", "none"]), "none");
  assert.equal(worstSync(["none", "pending", "synced"]), "pending");
  assert.equal(worstSync(["pending", "failed", "synced"]), "failed");
});

dbTest(
  "volume cards: size, last snapshot, newest complete, the running or followed snapshot, a running restore",
  async (h) => {
    const { clock, store, orgId, cards } = await setup(h.db, []);
    const other = await insertOrg(h.db, "other");
    const data = await store.ensureVolume(orgId, "h1", "data");
    await store.updateVolume(data.id, { size_bytes: 150 << 20, sync_state: "synced" });
    const old = await snapshotOf(store, orgId, data, "complete", clock.now());
    clock.advance(60_000);
    const newest = await snapshotOf(store, orgId, data, "complete", clock.now());
    clock.advance(60_000);
    await snapshotOf(store, orgId, data, "failed", clock.now());
    // The same name in another org and on another host stays out.
    await store.ensureVolume(other, "h1", "data");
    const elsewhere = await store.ensureVolume(orgId, "h2", "data");
    const running = await snapshotOf(store, orgId, elsewhere, "running", clock.now());

    const [a, b, c] = await cards.cards(orgId, [
      { host_id: "h1", volume: "data" },
      { host_id: "h2", volume: "data" },
      { host_id: "h1", volume: "fresh" },
      { host_id: "h1", volume: "data" },
    ]);
    assert.equal(a.row?.id, data.id);
    assert.equal(a.row?.size_bytes, 150 << 20);
    assert.equal(a.last_snapshot_at, newest.finished_at);
    assert.equal(a.newest_complete_id, newest.id);
    assert.equal(a.snapshot, undefined);
    assert.equal(b.snapshot?.id, running.id, "the running snapshot is shown");
    assert.equal(b.newest_complete_id, null);
    assert.equal(c.row, undefined, "a volume never snapshotted has no row, and no snapshot");
    assert.equal(c.last_snapshot_at, null);
    assert.equal(
      (await cards.cards(orgId, [{ host_id: "h1", volume: "data" }])).length,
      1,
    );

    // A followed snapshot shows after it ended; one of another volume does not.
    const followed = await cards.cards(orgId, [{ host_id: "h1", volume: "data" }], {
      follow: old.id,
    });
    assert.equal(followed[0].snapshot?.id, old.id);
    const wrong = await cards.cards(orgId, [{ host_id: "h1", volume: "fresh" }], {
      follow: old.id,
    });
    assert.equal(wrong[0].snapshot, undefined);

    // A restore running into the volume.
    const now = clock.now();
    await store.insertRestore({
      id: uuidv7(now),
      org_id: orgId,
      snapshot_id: newest.id,
      host_id: "h1",
      volume: "data",
      kind: "same",
      status: "running",
      progress_bytes: null,
      progress_total: null,
      started_at: now,
      heartbeat_at: now,
      finished_at: null,
      error: null,
      created_by: null,
    });
    const [restoring] = await cards.cards(orgId, [{ host_id: "h1", volume: "data" }]);
    assert.equal(restoring.restore?.status, "running");
    assert.deepEqual(await cards.cards(orgId, []), []);
  },
);

dbTest(
  "volume cards: a container's sync state is the worst of the volumes it mounts; hosts without rows are not asked",
  async (h) => {
    const calls: string[] = [];
    const { clock, store, orgId, cards } = await setup(h.db, calls);
    const listed = [
      { host_id: "h1", id: "c1", labels: {} },
      { host_id: "h1", id: "c2", labels: {} },
      { host_id: "h1", id: "c3", labels: {} },
      { host_id: "h3", id: "c9", labels: {} },
    ];
    assert.equal((await cards.containerSync(orgId, listed)).size, 0);
    assert.deepEqual(calls, [], "no rows: no agent is asked");

    const data = await store.ensureVolume(orgId, "h1", "data");
    const logs = await store.ensureVolume(orgId, "h1", "logs");
    await store.updateVolume(data.id, { sync_state: "synced" });
    await store.updateVolume(logs.id, { sync_state: "failed" });
    let sync = await cards.containerSync(orgId, listed);
    assert.deepEqual(Object.fromEntries(sync), { "h1/c1": "failed", "h1/c2": "failed" });
    assert.deepEqual(calls, ["h1"], "only the host with rows is asked");

    await store.updateVolume(logs.id, { sync_state: "pending" });
    // Remembered briefly: the same answer, no new call.
    sync = await cards.containerSync(orgId, listed);
    assert.deepEqual(calls, ["h1"]);
    assert.equal(sync.get("h1/c1"), "pending");
    clock.advance(60_000);
    await store.updateVolume(logs.id, { sync_state: "synced" });
    sync = await cards.containerSync(orgId, listed);
    assert.deepEqual(calls, ["h1", "h1"]);
    assert.deepEqual(Object.fromEntries(sync), { "h1/c1": "synced", "h1/c2": "synced" });
  },
);

dbTest(
  "volume cards: a host that does not answer falls back to the app labels of task containers",
  async (h) => {
    const { store, orgId, cards } = await setup(h.db, [], false);
    const db = await store.ensureVolume(orgId, "h1", "pgdata", {
      app_id: "app1",
      service: "db",
    });
    await store.updateVolume(db.id, { sync_state: "synced" });
    const sync = await cards.containerSync(orgId, [
      { host_id: "h1", id: "t1", labels: { "capstan.app": "app1", "capstan.service": "db" } },
      { host_id: "h1", id: "t2", labels: { "capstan.app": "app1", "capstan.service": "web" } },
      { host_id: "h1", id: "t3", labels: {} },
    ]);
    assert.deepEqual(Object.fromEntries(sync), { "h1/t1": "synced" });
  },
);
