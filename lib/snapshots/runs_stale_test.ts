import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { createEventBus } from "../events.ts";
import { silentLogger } from "../log.ts";
import { uuidv7 } from "../util/ids.ts";
import { createSnapshotStore } from "./store.ts";
import { createSnapshotRuns, type RunDeps } from "./runs.ts";
import type { SnapshotFailed } from "./events.ts";

const MINUTE = 60_000;
const unused = () => {
  throw new Error("not used by failStale");
};

dbTest(
  "failStale() fails a snapshot and a restore whose hub stopped following them, and tells each as snapshots.failed",
  async (h) => {
    const clock = manualClock(100 * MINUTE);
    const store = createSnapshotStore(h.db, clock);
    const events = createEventBus(silentLogger);
    const told: SnapshotFailed[] = [];
    events.on("snapshots.failed", (e) => void told.push(e));
    const runs = createSnapshotRuns({
      store,
      clock,
      log: silentLogger,
      events,
      targets: { open: unused },
      hosts: { get: unused },
      agent: () => undefined,
      volumes: unused,
      apps: { stop: unused, start: unused },
      audit: { run: unused },
      publishSnapshot: () => {},
      publishRestore: () => {},
      defaultPath: () => "/unused",
    } as unknown as RunDeps);
    const orgId = await insertOrg(h.db, "acme");
    const vol = await store.ensureVolume(orgId, "h1", "data");
    const row = (started: number) => ({
      id: uuidv7(started),
      org_id: orgId,
      volume_id: vol.id,
      host_id: "h1",
      volume: "data",
      app_id: null,
      target_id: "t1",
      restic_id: null,
      status: "running" as const,
      trigger: "schedule" as const,
      mode: "live" as const,
      schedule_id: null,
      files: null,
      files_new: null,
      files_changed: null,
      bytes_processed: null,
      bytes_added: null,
      progress_bytes: null,
      progress_total: null,
      started_at: started,
      heartbeat_at: started,
      finished_at: null,
      duration_ms: null,
      error: null,
      created_by: null,
    });
    const dead = await store.insertSnapshot(row(clock.now() - 10 * MINUTE));
    const alive = await store.insertSnapshot(row(clock.now() - MINUTE));
    const restore = await store.insertRestore({
      id: uuidv7(clock.now()),
      org_id: orgId,
      snapshot_id: dead.id,
      host_id: "h1",
      volume: "copy",
      kind: "new",
      status: "running",
      progress_bytes: null,
      progress_total: null,
      started_at: clock.now() - 10 * MINUTE,
      heartbeat_at: clock.now() - 10 * MINUTE,
      finished_at: null,
      error: null,
      created_by: null,
    });

    assert.equal(await runs.failStale(), 2);
    assert.equal((await store.snapshot(orgId, dead.id))!.status, "failed");
    assert.equal((await store.snapshot(orgId, alive.id))!.status, "running", "still beating");
    assert.equal((await store.restore(orgId, restore.id))!.status, "failed");
    assert.deepEqual(
      told.map((e) => [e.what, e.id, e.trigger]),
      [["snapshot", dead.id, "schedule"], ["restore", restore.id, "new"]],
    );
    assert.match(told[0].error, /no heartbeat/);
    // Nothing left to fail: nothing told again.
    assert.equal(await runs.failStale(), 0);
    assert.equal(told.length, 2);
  },
);
