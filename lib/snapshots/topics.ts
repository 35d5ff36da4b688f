/**
 * Realtime topics of snapshots and restores: `org:<orgId>:snapshot.<id>` and
 * `org:<orgId>:restore.<id>` carry progress (bytes and rate) while restic runs on the host, then
 * one end event, for the progress bars of the storage, container and app pages. Members of the
 * organization may read them (viewers too: they see the storage page).
 */
import { orgItemTopic } from "../realtime/topics.ts";

export type SnapshotProgressEvent =
  | {
    kind: "progress";
    id: string;
    /** "snapshot" while restic reads the volume, "upload" while a staged snapshot is copied. */
    phase?: string;
    bytes_done: number;
    total_bytes: number;
    percent: number;
    /** Bytes per second since the start. */
    rate: number;
  }
  | { kind: "state"; id: string; status: "complete" | "failed"; error?: string | null };

export const snapshotTopic = orgItemTopic<SnapshotProgressEvent>("snapshot", "viewer");
export const restoreTopic = orgItemTopic<SnapshotProgressEvent>("restore", "viewer");
