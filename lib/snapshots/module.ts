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
import type { Apps } from "../apps/service.ts";
import { createSnapshotStore, type SnapshotStore } from "./store.ts";
import { createTargets, type Targets, targetSecretsContext } from "./targets.ts";
import { restoreTopic, snapshotTopic } from "./topics.ts";
import { createSnapshotRuns, type SnapshotRuns } from "./runs.ts";
import { createAppControl } from "./app_control.ts";
import { hostVolumes } from "./host_volumes.ts";
import { subscribeTriggers } from "./triggers.ts";
import { createAgentPicker } from "./online.ts";
import { type ConnectionTest, createConnectionTest } from "./connection.ts";
import { createSchedules, type Schedules } from "./schedules.ts";
import { createVerifier, type Verifier } from "./verify.ts";
import { createStorageVolumes, type StorageVolumes } from "./volumes.ts";
import { createVolumeCards, type VolumeCards } from "./volume_cards.ts";
import * as snapshotsMigration from "./migration.ts";

export const snapshotsModule = defineModule<
  {
    snapshotStore: SnapshotStore;
    storageTargets: Targets;
    snapshotRuns: SnapshotRuns;
    storageVolumes: StorageVolumes;
    volumeCards: VolumeCards;
    snapshotTriggers: ReturnType<typeof subscribeTriggers>;
    storageConnection: ConnectionTest;
    snapshotSchedules: Schedules;
    snapshotVerify: Verifier;
  },
  { audit: AuditLog; hosts: Hosts; agents: AgentRegistry; apps: Apps }
>({
  name: "snapshots",
  deps: ["audit", "hosts", "agents", "apps"],
  services: (core, { audit, hosts, agents, apps }) => {
    const { clock, log, config } = core;
    const store = createSnapshotStore(core.db, clock);
    const storageTargets = createTargets({
      store,
      box: () => core.secretBox(),
      audit,
      clock,
    });
    const repoPath = (orgId: string) => join(config.snapshots.dir, orgId);
    const agent = (hostId: string) => agents.isOnline(hostId) ? agents.require(hostId) : undefined;
    const volumes = (conn: Parameters<typeof hostVolumes>[0], orgId: string, hostId: string) =>
      hostVolumes(conn, core.db, orgId, hostId);

    const appControl = createAppControl(apps);

    const snapshotRuns = createSnapshotRuns({
      store,
      targets: storageTargets,
      hosts,
      agent,
      volumes,
      apps: appControl,
      audit,
      clock,
      log,
      events: core.events,
      publishSnapshot: (orgId, id, e) => void core.realtime.publish(snapshotTopic(orgId, id), e),
      publishRestore: (orgId, id, e) => void core.realtime.publish(restoreTopic(orgId, id), e),
      defaultPath: repoPath,
    });
    const snapshotTriggers = subscribeTriggers({
      events: core.events,
      store,
      runs: snapshotRuns,
      db: core.db,
      agent,
      volumes,
      log,
    });
    const storageVolumes = createStorageVolumes({ store, hosts, agent, volumes, audit });
    const volumeCards = createVolumeCards({ store, agent, volumes, now: () => clock.now() });
    const pickAgent = createAgentPicker({ hosts, agents });
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
      runs: () => snapshotRuns,
    });
    const snapshotVerify = createVerifier({
      store,
      targets: storageTargets,
      pickAgent,
      runs: () => snapshotRuns,
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
      snapshotRuns,
      storageVolumes,
      volumeCards,
      snapshotTriggers,
      storageConnection,
      snapshotSchedules,
      snapshotVerify,
    };
  },
  nav: [{
    key: "storage",
    group: "Apps",
    label: "Storage",
    scope: "org",
    path: "/storage",
    order: 30,
  }],
  jobs: ({ snapshotRuns, snapshotSchedules, snapshotVerify }) => [{
    name: "snapshots_stale",
    schedule: "* * * * *",
    intervalMs: 60_000,
    // Snapshots and restores whose hub stopped following them (no heartbeat) are failed.
    run: async () => ({ failed: await snapshotRuns.failStale() }),
  }, {
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
  stop: async ({ snapshotRuns, snapshotTriggers }) => {
    await snapshotTriggers.close();
    await snapshotRuns.stop();
  },
});
