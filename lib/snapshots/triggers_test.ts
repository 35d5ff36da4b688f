import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { insertContainerRow } from "../../tests/support/container_row.ts";
import type { AgentConnection } from "../agents/connection.ts";
import type { EventBus } from "../events.ts";
import { silentLogger } from "../log.ts";
import { uuidv7 } from "../util/ids.ts";
import { newHostRow } from "../hosts/rows.ts";
import { LABELS } from "../apps/swarm_spec.ts";
import { createSnapshotStore, type SnapshotRestore } from "./store.ts";
import type { SnapshotRuns } from "./runs.ts";
import { subscribeTriggers } from "./triggers.ts";

/** An event bus that keeps its listeners, for the test to call. */
function listeners() {
  const on = new Map<string, (e: unknown) => void>();
  const events = {
    on: (name: string, fn: (e: unknown) => void) => {
      on.set(name, fn);
      return () => on.delete(name);
    },
  } as unknown as Pick<EventBus, "on">;
  return { events, emit: (name: string, e: unknown) => on.get(name)!(e) };
}

dbTest(
  "restore on start: a failed restore of a snapshot is not tried again at the next start (the restore's own restart), a newer snapshot is",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const store = createSnapshotStore(h.db, clock);
    const orgId = await insertOrg(h.db, "acme");
    const appId = "app-1";
    await h.db.insertInto("hosts").values(newHostRow(
      { id: "hB", org_id: orgId, name: "b", labels: "{}", local: 0, machine_id: null },
      { created_at: 0, enrolled_at: null },
    )).execute();
    await insertContainerRow(h.db, {
      host_id: "hB",
      org_id: orgId,
      id: "task-1",
      name: "/web.1",
      labels: JSON.stringify({ [LABELS.app]: appId, [LABELS.service]: "web" }),
    });
    const onA = await store.ensureVolume(orgId, "hA", "data", { app_id: appId, sync: 1 });
    /** A complete snapshot of A's copy, finished now. */
    const snapshot = async () => {
      clock.advance(1000);
      const t = clock.now();
      const id = uuidv7(t);
      await store.insertSnapshot({
        id,
        org_id: orgId,
        volume_id: onA.id,
        host_id: "hA",
        volume: "data",
        app_id: appId,
        target_id: "t1",
        restic_id: "ab".repeat(32),
        status: "complete",
        trigger: "manual",
        mode: "live",
        schedule_id: null,
        files: 1,
        files_new: 1,
        files_changed: 0,
        bytes_processed: 1,
        bytes_added: 1,
        progress_bytes: 1,
        progress_total: 1,
        started_at: t,
        heartbeat_at: t,
        finished_at: t,
        duration_ms: 0,
        error: null,
        created_by: null,
      });
      return id;
    };
    const first = await snapshot();
    const restored: string[] = [];
    const runs = {
      restore(_ctx, _orgId, snapshotId, req) {
        restored.push(`${snapshotId} ${req.kind} ${req.host_id}`);
        const r = { id: `r${restored.length}`, status: "failed" } as SnapshotRestore;
        return Promise.resolve({ restore: r, done: Promise.resolve(r) });
      },
    } as Pick<SnapshotRuns, "start" | "restore">;
    const bus = listeners();
    const triggers = subscribeTriggers({
      events: bus.events,
      store,
      runs,
      db: h.db,
      agent: () => ({}) as AgentConnection,
      volumes: () =>
        Promise.resolve([{
          name: "data",
          driver: "local",
          created: null,
          labels: {},
          users: [{ id: "task-1", name: "web.1", state: "running", labels: {} }],
          app_id: appId,
          service: "web",
        }]),
      log: silentLogger,
    });
    const started = async () => {
      bus.emit("agent.containers_changed", {
        host: { id: "hB", org_id: orgId },
        event: { id: "task-1", action: "start" },
      });
      await triggers.idle();
    };
    try {
      await started();
      assert.deepEqual(restored, [`${first} start hB`]);
      const onB = await store.volumeOn(orgId, "hB", "data");
      assert.equal(onB?.sync, 1, "B's copy is marked sync like A's");
      await started();
      assert.equal(restored.length, 1, "the failed restore was tried again");
      const second = await snapshot();
      await started();
      assert.deepEqual(restored.slice(1), [`${second} start hB`], "a newer snapshot is tried");
    } finally {
      await triggers.close();
    }
  },
);
