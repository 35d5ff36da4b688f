/**
 * What the snapshots module tells other modules (lib/events.ts); the alerts module listens:
 * - `snapshots.failed`: a snapshot or a restore ended failed (emitted by the runs, runs.ts, once
 *   per failure, after its row is recorded failed).
 * - `snapshots.verify_failed`: a target's verification (`restic check` plus a test restore)
 *   failed.
 * - `snapshots.completed`: a snapshot ended complete (runs.ts, after its row says so); the
 *   topology turns the volume's backup badge fresh.
 * Names, ids and restic's message only: never a password, a key or a file's content.
 */

export interface SnapshotFailed {
  org_id: string;
  /** A snapshot, or a restore of one. */
  what: "snapshot" | "restore";
  /** The snapshot's (or the restore's) id. */
  id: string;
  host_id: string;
  volume: string;
  /** A snapshot's trigger; a restore's kind. */
  trigger: string;
  error: string;
  /** When it ended (hub ms). */
  at: number;
}

export interface SnapshotVerifyFailed {
  org_id: string;
  target: { id: string; name: string };
  /** Which part failed: the repository check, or the test restore of the newest snapshot. */
  step: "check" | "restore" | "agent";
  error: string;
  at: number;
}

/** A snapshot that ended complete. */
export interface SnapshotCompleted {
  org_id: string;
  id: string;
  host_id: string;
  volume: string;
  at: number;
}

declare module "../events.ts" {
  interface DomainEvents {
    "snapshots.completed": SnapshotCompleted;
    "snapshots.failed": SnapshotFailed;
    "snapshots.verify_failed": SnapshotVerifyFailed;
  }
}
