/**
 * snapshot_verify_failed: a storage target's verification failed (lib/snapshots,
 * `snapshots.verify_failed`): `restic check` found damage, or the test restore of its newest
 * snapshot did not come back, or no host could run it. The target's badge turns failed; the
 * organization hears of it at once, since the backups there may not restore.
 *
 * One subject per target; a failure told once, by when it was found.
 */
import type { EventRuleKind } from "./kind.ts";

const DETAIL_MAX = 500;

/** What failed, as a title says it. */
const STEP_WORDS = {
  check: "its repository check found errors",
  restore: "the test restore failed",
  agent: "it could not run",
} as const;

/** The snapshot_verify_failed kind. */
export const snapshotVerifyFailed: EventRuleKind = {
  snapshotVerifyFailed(c, rule, e) {
    const s = c.subject(rule, `storage_target:${e.target.id}/verify`, "");
    // Its value is when the last failure told of ended: one heard again is not told twice.
    if (s.value !== null && s.value >= e.at) return;
    s.value = e.at;
    c.instant(s, e.at, {
      hostName: null,
      containerName: null,
      title: `Verification of storage target ${e.target.name} failed: ${STEP_WORDS[e.step]}`,
      detail: e.error.trim().slice(0, DETAIL_MAX) || "It failed without a message",
    });
  },
};
