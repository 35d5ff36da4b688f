import assert from "node:assert/strict";
import { snapshotFailed } from "./snapshot_failed.ts";
import { snapshotVerifyFailed } from "./snapshot_verify_failed.ts";
import type { SnapshotFailed, SnapshotVerifyFailed } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const failed = (at: number, over: Partial<SnapshotFailed> = {}): SnapshotFailed => ({
  org_id: "o1",
  what: "snapshot",
  id: "s1",
  host_id: "h1",
  volume: "pgdata",
  trigger: "schedule",
  error: "Cannot snapshot the volume: restic exited with 1: Fatal: unable to save snapshot",
  at,
  ...over,
});

Deno.test("snapshot_failed tells each failed snapshot or restore of a volume once, with restic's message", async () => {
  const r = rule({ name: "Snapshots", kind: "event", event: "snapshot_failed" });
  const h = harness([r]);
  snapshotFailed.snapshotFailed!(h.at(T0 + 10), r, failed(T0));
  const info = await lastInfo(h.ops);
  assert.match(info!.title, /^Scheduled snapshot of volume pgdata on .+ failed$/);
  assert.match(info!.detail, /unable to save snapshot/);
  assert.deepEqual(h.take(), [`instant volume:h1/pgdata/snapshot ok ${T0}`]);

  // The same failure heard again: not told twice; the next one is.
  snapshotFailed.snapshotFailed!(h.at(T0 + 20), r, failed(T0));
  assert.deepEqual(h.take(), []);
  snapshotFailed.snapshotFailed!(h.at(T0 + 99), r, failed(T0 + 90, { trigger: "manual" }));
  assert.match((await lastInfo(h.ops))!.title, /^Snapshot of volume pgdata/);
  assert.equal(h.take().length, 1);

  // A restore of the same volume is its own subject.
  snapshotFailed.snapshotFailed!(
    h.at(T0 + 100),
    r,
    failed(T0 + 95, { what: "restore", trigger: "new", error: "" }),
  );
  const restore = await lastInfo(h.ops);
  assert.match(restore!.title, /^Restore \(new\) into volume pgdata on .+ failed$/);
  assert.equal(restore!.detail, "It failed without a message");
  assert.deepEqual(h.take(), [`instant volume:h1/pgdata/restore ok ${T0 + 95}`]);
});

Deno.test("snapshot_verify_failed tells each failed verification of a target once, naming the step", async () => {
  const r = rule({ name: "Verify", kind: "event", event: "snapshot_verify_failed" });
  const h = harness([r]);
  const e = (at: number, step: SnapshotVerifyFailed["step"]): SnapshotVerifyFailed => ({
    org_id: "o1",
    target: { id: "t1", name: "nas" },
    step,
    error: "restic check found errors: pack 1234abcd: does not match",
    at,
  });
  snapshotVerifyFailed.snapshotVerifyFailed!(h.at(T0), r, e(T0, "check"));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: null,
    containerName: null,
    title: "Verification of storage target nas failed: its repository check found errors",
    detail: "restic check found errors: pack 1234abcd: does not match",
  });
  snapshotVerifyFailed.snapshotVerifyFailed!(h.at(T0 + 5), r, e(T0, "check"));
  assert.deepEqual(h.take(), [`instant storage_target:t1/verify ok ${T0}`]);
  snapshotVerifyFailed.snapshotVerifyFailed!(h.at(T0 + 9), r, e(T0 + 9, "restore"));
  assert.match((await lastInfo(h.ops))!.title, /the test restore failed$/);
});

Deno.test("snapshot_failed and snapshot_verify_failed rules are organization-wide", () => {
  assertOrgOnly("snapshot_failed");
  assertOrgOnly("snapshot_verify_failed");
});
