/**
 * The snapshots feature: Docker volumes backed up with restic by the agent of the host that has
 * them, into storage the org owns (a folder, SFTP, S3-compatible object storage); restores into
 * the same or a new volume, schedules with retention, snapshot on stop, restore on start, and a
 * weekly verification. Data never passes through the hub (DESIGN §8): the hub keeps the targets
 * (secrets sealed), the records and the schedules, and tells agents what to run.
 */
import { defineModule, encryptedColumn } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import { createSnapshotStore, type SnapshotStore } from "./store.ts";
import { createTargets, type Targets, targetSecretsContext } from "./targets.ts";
import { restoreTopic, snapshotTopic } from "./topics.ts";
import * as snapshotsMigration from "./migration.ts";

export const snapshotsModule = defineModule<
  { snapshotStore: SnapshotStore; storageTargets: Targets },
  { audit: AuditLog }
>({
  name: "snapshots",
  deps: ["audit"],
  services: (core, { audit }) => {
    const store = createSnapshotStore(core.db, core.clock);
    const storageTargets = createTargets({
      store,
      box: () => core.secretBox(),
      audit,
      clock: core.clock,
    });
    return { snapshotStore: store, storageTargets };
  },
  nav: [{
    key: "storage",
    group: "Apps",
    label: "Storage",
    scope: "org",
    path: "/storage",
    order: 30,
  }],
  topics: topicRoles([snapshotTopic, restoreTopic]),
  migrations: { "0019_snapshots": snapshotsMigration },
  encrypted: [
    encryptedColumn({
      table: "storage_targets",
      key: ["id"],
      blob: "secrets",
      keyId: "secrets_key_id",
      context: (r) => targetSecretsContext(r.id),
    }),
  ],
});
