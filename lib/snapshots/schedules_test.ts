import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { createAuditLog } from "../audit/service.ts";
import type { Db } from "../db/mod.ts";
import { Invalid, NotFound } from "../errors.ts";
import { silentLogger } from "../log.ts";
import { uuidv7 } from "../util/ids.ts";
import { createSnapshotStore, type Snapshot } from "./store.ts";
import { createSchedules, type Keep, type ScheduleRuns } from "./schedules.ts";

const ctx = { actor: { type: "user" as const, id: "u1", name: "ada" } };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();

/**
 * Runs that record what they are asked, write a snapshot row that ends as `outcome` says, and
 * keep the newest `keep.last` complete rows of the volume when retention is applied.
 */
function fakeRuns(store: ReturnType<typeof createSnapshotStore>, now: () => number) {
  const calls: string[] = [];
  let outcome: { status: "complete" | "failed"; error?: string } = { status: "complete" };
  const runs: ScheduleRuns = {
    async start(_ctx, orgId, req) {
      calls.push(`start ${req.volume} ${req.trigger}`);
      const v = await store.ensureVolume(orgId, req.host_id, req.volume);
      const t = now();
      const snapshot: Snapshot = {
        id: uuidv7(t),
        org_id: orgId,
        volume_id: v.id,
        host_id: req.host_id,
        volume: req.volume,
        app_id: null,
        target_id: "t1",
        restic_id: null,
        status: "running",
        trigger: req.trigger,
        mode: "live",
        schedule_id: req.schedule_id,
        files: null,
        files_new: null,
        files_changed: null,
        bytes_processed: null,
        bytes_added: null,
        progress_bytes: null,
        progress_total: null,
        started_at: t,
        heartbeat_at: t,
        finished_at: null,
        duration_ms: null,
        error: null,
        created_by: null,
      };
      await store.insertSnapshot(snapshot);
      const end = { ...outcome };
      const done = (async () => {
        await store.updateSnapshot(snapshot.id, {
          status: end.status,
          error: end.error ?? null,
          finished_at: t,
          restic_id: end.status === "complete" ? "ab".repeat(32) : null,
        });
        calls.push(`done ${end.status}`);
        return (await store.snapshot(orgId, snapshot.id))!;
      })();
      return { snapshot, done };
    },
    async applyRetention(orgId, volumeId, keep: Keep) {
      calls.push(`retention ${JSON.stringify(keep)}`);
      const all = await store.snapshots(orgId, { volume_id: volumeId, status: "complete" });
      const gone = all.slice(keep.last ?? all.length).map((s) => s.id);
      await store.removeSnapshots(orgId, gone);
      return { removed: gone, kept: all.slice(0, keep.last).map((s) => s.id) };
    },
  };
  return {
    runs,
    calls,
    fail(error: string) {
      outcome = { status: "failed", error };
    },
  };
}

async function setup(h: { db: Db }, start = Date.UTC(2026, 0, 1)) {
  const clock = manualClock(start);
  const store = createSnapshotStore(h.db, clock);
  const fake = fakeRuns(store, clock.now);
  const orgId = await insertOrg(h.db, "acme");
  const make = () =>
    createSchedules({
      store,
      audit: createAuditLog(h.db, clock),
      clock,
      log: silentLogger,
      host: (org, id) =>
        org === orgId && id === "h1"
          ? Promise.resolve({})
          : Promise.reject(new NotFound("host not found")),
      runs: () => fake.runs,
    });
  return { clock, store, fake, orgId, schedules: make(), make };
}

dbTest(
  "snapshot schedules: a retention is required, fields named, host checked, next run shown",
  async (h) => {
    const { schedules, orgId } = await setup(h);
    const field = (e: unknown) => Object.keys((e as Invalid).fields ?? {})[0];
    const base = { host_id: "h1", volume: "pgdata", cron: "30 2 * * *" };
    await assert.rejects(schedules.create(ctx, orgId, base), (e) => field(e) === "keep_last");
    await assert.rejects(
      schedules.create(ctx, orgId, { ...base, cron: "30 2 * *", keep_last: 3 }),
      (e) => e instanceof Invalid && field(e) === "cron",
    );
    await assert.rejects(
      schedules.create(ctx, orgId, { ...base, timezone: "Mars/Olympus", keep_last: 3 }),
      (e) => field(e) === "timezone",
    );
    await assert.rejects(
      schedules.create(ctx, orgId, { ...base, host_id: "elsewhere", keep_last: 3 }),
      (e) => field(e) === "host_id",
    );
    await assert.rejects(
      schedules.create(ctx, orgId, { ...base, volume: "../x", keep_last: 3 }),
      (e) => field(e) === "volume",
    );
    const s = await schedules.create(ctx, orgId, { ...base, keep_daily: 7 });
    assert.equal(s.timezone, "UTC");
    assert.equal(s.enabled, true);
    assert.equal(iso(s.next_run_at), "2026-01-01T02:30:00.000Z");
    assert.deepEqual((await schedules.list(orgId)).map((x) => [x.host_id, x.volume]), [[
      "h1",
      "pgdata",
    ]]);

    // Dropping the only keep is refused; replacing it is not.
    await assert.rejects(
      schedules.update(ctx, orgId, s.id, { keep_daily: null }),
      (e) => field(e) === "keep_daily",
    );
    const changed = await schedules.update(ctx, orgId, s.id, { keep_daily: null, keep_last: 5 });
    assert.deepEqual([changed.keep_last, changed.keep_daily], [5, null]);
    const off = await schedules.update(ctx, orgId, s.id, { enabled: false });
    assert.equal(off.next_run_at, null);

    const other = await insertOrg(h.db, "other");
    await assert.rejects(schedules.get(other, s.id), NotFound);
    await schedules.remove(ctx, orgId, s.id);
    assert.deepEqual(await schedules.list(orgId), []);
  },
);

dbTest(
  "snapshot schedules over a simulated clock: due across days and a DST change, missed runs collapse to one, one replica runs each, retention after the snapshot",
  async (h) => {
    const { clock, fake, orgId, schedules, make, store } = await setup(h);
    const s = await schedules.create(ctx, orgId, {
      host_id: "h1",
      volume: "pgdata",
      cron: "30 2 * * *",
      keep_last: 3,
    });

    // Not due a minute before; due at 02:30, then again the next day.
    clock.set(Date.UTC(2026, 0, 1, 2, 29));
    assert.equal((await schedules.runDue()).started, 0);
    clock.set(Date.UTC(2026, 0, 1, 2, 30));
    const first = await schedules.runDue();
    assert.equal(first.started, 1);
    await first.done;
    assert.deepEqual(fake.calls.splice(0), [
      "start pgdata schedule",
      "done complete",
      'retention {"last":3}',
    ]);
    let row = await schedules.get(orgId, s.id);
    assert.equal(iso(row.next_run_at), "2026-01-02T02:30:00.000Z");
    assert.equal(row.last_error, null);
    assert.ok(row.last_snapshot_id);
    assert.equal((await schedules.runDue()).started, 0, "the same occurrence runs once");

    // Five days of occurrences: keep_last 3 leaves three snapshots.
    for (let d = 2; d <= 5; d++) {
      clock.set(Date.UTC(2026, 0, d, 2, 30, 20));
      await (await schedules.runDue()).done;
    }
    assert.equal(fake.calls.filter((c) => c.startsWith("start")).length, 4);
    assert.equal((await store.snapshots(orgId, { status: "complete" })).length, 3);

    // The hub was down for three days: one snapshot when it is back, not three.
    fake.calls.length = 0;
    clock.set(Date.UTC(2026, 0, 9, 11, 0));
    const back = await schedules.runDue();
    assert.equal(back.started, 1);
    await back.done;
    assert.equal(fake.calls.filter((c) => c.startsWith("start")).length, 1);
    row = await schedules.get(orgId, s.id);
    assert.equal(iso(row.next_run_at), "2026-01-10T02:30:00.000Z");

    // Two replicas at once: one claims the occurrence.
    clock.set(Date.UTC(2026, 0, 10, 2, 30));
    const both = await Promise.all([schedules.runDue(), make().runDue()]);
    assert.equal(both[0].started + both[1].started, 1);
    await Promise.all(both.map((b) => b.done));

    // A failed snapshot is recorded and applies no retention.
    fake.calls.length = 0;
    fake.fail("Cannot snapshot the volume: restic exited with 1");
    clock.set(Date.UTC(2026, 0, 11, 2, 30));
    await (await schedules.runDue()).done;
    assert.deepEqual(fake.calls, ["start pgdata schedule", "done failed"]);
    row = await schedules.get(orgId, s.id);
    assert.match(row.last_error ?? "", /restic exited with 1/);

    // In Europe/Berlin, 02:30 every night across the spring change (02:30 does not exist on
    // 29 March: it runs at 03:30 local) and the autumn one (02:30 happens twice: it runs once).
    clock.set(Date.UTC(2026, 2, 27, 12));
    const berlin = await schedules.update(ctx, orgId, s.id, { timezone: "Europe/Berlin" });
    assert.equal(iso(berlin.next_run_at), "2026-03-28T01:30:00.000Z");
    const seen: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      clock.set((await schedules.get(orgId, s.id)).next_run_at!);
      await (await schedules.runDue()).done;
      seen.push(iso((await schedules.get(orgId, s.id)).next_run_at));
    }
    assert.deepEqual(seen, [
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ]);
    clock.set(Date.UTC(2026, 9, 24, 12));
    await schedules.update(ctx, orgId, s.id, { cron: "30 2 * * *" });
    const autumn: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const at = (await schedules.get(orgId, s.id)).next_run_at!;
      autumn.push(iso(at));
      clock.set(at);
      await (await schedules.runDue()).done;
    }
    assert.deepEqual(autumn, [
      "2026-10-25T01:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);

    // A disabled schedule is never due.
    await schedules.update(ctx, orgId, s.id, { enabled: false });
    clock.advance(30 * DAY);
    assert.equal((await schedules.runDue()).started, 0);
  },
);
