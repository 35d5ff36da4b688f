/**
 * The snapshots feature: Docker volumes backed up with restic by the agent of the host that has
 * them, into storage the org owns (a folder, SFTP, S3-compatible object storage); restores into
 * the same or a new volume, schedules with retention, snapshot on stop, restore on start, and a
 * weekly verification. Data never passes through the hub (DESIGN §8): the hub keeps the targets
 * (secrets sealed), the records and the schedules, and tells agents what to run.
 */
import { join } from "node:path";
import { defineModule, encryptedColumn } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Hosts } from "../hosts/service.ts";
import { Unavailable } from "../errors.ts";
import { createSnapshotStore, type SnapshotStore } from "./store.ts";
import { createTargets, type Targets, targetSecretsContext } from "./targets.ts";
import { createAgentPicker } from "./online.ts";
import { type ConnectionTest, createConnectionTest } from "./connection.ts";
import { createSchedules, type ScheduleRuns, type Schedules } from "./schedules.ts";
import { createVerifier, type Verifier, type VerifyRuns } from "./verify.ts";
import { restoreTopic, snapshotTopic } from "./topics.ts";
import * as snapshotsMigration from "./migration.ts";

export const snapshotsModule = defineModule<
  {
    snapshotStore: SnapshotStore;
    storageTargets: Targets;
    storageConnection: ConnectionTest;
    snapshotSchedules: Schedules;
    snapshotVerify: Verifier;
  },
  { audit: AuditLog; hosts: Hosts; agents: AgentRegistry }
>({
  name: "snapshots",
  deps: ["audit", "hosts", "agents"],
  services: (core, { audit, hosts, agents }) => {
    const { clock, log, config } = core;
    const store = createSnapshotStore(core.db, clock);
    const storageTargets = createTargets({
      store,
      box: () => core.secretBox(),
      audit,
      clock,
    });
    const repoPath = (orgId: string) => join(config.snapshots.dir, orgId);
    const pickAgent = createAgentPicker({ hosts, agents });
    // TODO(snap-runs): the runs (lib/snapshots/runs.ts) once merged.
    const runs = (): ScheduleRuns & VerifyRuns => {
      throw new Unavailable("Snapshot runs are not available yet");
    };
    const storageConnection = createConnectionTest({
      targets: storageTargets,
      pickAgent,
      audit,
      clock,
      outbound: { allowPrivate: config.allowPrivateTargets },
      repoPath,
    });
    const snapshotSchedules = createSchedules({
      store,
      audit,
      clock,
      log,
      host: (orgId, hostId) => hosts.get(orgId, hostId),
      runs,
    });
    const snapshotVerify = createVerifier({
      store,
      targets: storageTargets,
      pickAgent,
      runs,
      audit,
      events: core.events,
      clock,
      log,
      repoPath,
      readDataSubset: config.snapshots.verifyReadData,
    });
    return {
      snapshotStore: store,
      storageTargets,
      storageConnection,
      snapshotSchedules,
      snapshotVerify,
    };
  },
  jobs: ({ snapshotSchedules, snapshotVerify }) => [{
    name: "snapshot_schedules",
    schedule: "* * * * *",
    intervalMs: 60_000,
    // Starts the due scheduled snapshots (not waiting for them: one may take hours).
    run: async () => ({ started: (await snapshotSchedules.runDue()).started }),
  }, {
    name: "snapshot_verify",
    schedule: "*/5 * * * *",
    intervalMs: 300_000,
    // Starts the due verifications of targets (restic check and a test restore).
    run: async () => ({ started: (await snapshotVerify.runDue()).started }),
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
