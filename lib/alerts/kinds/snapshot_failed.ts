/**
 * snapshot_failed: a volume snapshot or a restore ended failed (lib/snapshots tells each on the
 * bus, `snapshots.failed`): a backup that did not happen is what people find out about too late,
 * so every failure is an instant alert through the organization's channels.
 *
 * One subject per (host, volume, snapshot or restore), not per run, so subjects stay bounded; a
 * failure told once, by when it ended: the same failure heard again (no later end) is not told
 * twice.
 */
import type { EventRuleKind } from "./kind.ts";

/** A failure's message kept to this many characters (restic's last line, not a log). */
const DETAIL_MAX = 500;

/** The snapshot_failed kind. */
export const snapshotFailed: EventRuleKind = {
  snapshotFailed(c, rule, e) {
    const s = c.subject(rule, `volume:${e.host_id}/${e.volume}/${e.what}`, "");
    // Its value is when the last failure told of ended: one heard again is not told twice.
    if (s.value !== null && s.value >= e.at) return;
    s.value = e.at;
    const host = c.hostName(e.host_id);
    const what = e.what === "snapshot"
      ? `${e.trigger === "schedule" ? "Scheduled snapshot" : "Snapshot"} of volume ${e.volume}`
      : `Restore (${e.trigger}) into volume ${e.volume}`;
    c.instant(s, e.at, {
      hostName: host,
      containerName: null,
      title: `${what} on ${host} failed`,
      detail: e.error.trim().slice(0, DETAIL_MAX) || "It failed without a message",
    });
  },
};
