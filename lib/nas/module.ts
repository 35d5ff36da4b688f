/**
 * The NAS backup status feature: read-only checks over SSH of the backup folders on an
 * organization's NAS (each direct child of the backup root is a site), "last backup N hours ago"
 * per site, and the `nas_backup_stale` alert (lib/alerts/kinds/nas_backup_stale.ts) when a site
 * is older than its threshold or the NAS cannot be read. Nothing is written to the NAS.
 */
import { defineModule, encryptedColumn } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { createNasStore } from "./store.ts";
import { createNas, type Nas, nasCredentialsContext } from "./service.ts";
import * as nasMigration from "./migration.ts";
import "./events.ts";

export const nasModule = defineModule<{ nas: Nas }, { audit: AuditLog }>({
  name: "nas",
  deps: ["audit"],
  services: (core, { audit }) => ({
    nas: createNas({
      store: createNasStore(core.db),
      box: core.secretBox,
      audit,
      clock: core.clock,
      log: core.log,
      events: core.events,
    }),
  }),
  jobs: ({ nas }) => [{
    name: "nas_check",
    schedule: "*/15 * * * *",
    intervalMs: 15 * 60_000,
    // Every target's sites read again: a backup that stopped shows as stale within 15 minutes of
    // crossing its threshold, and a NAS that went away as a failed check.
    run: () => nas.checkAll(),
  }],
  migrations: { "0018_nas": nasMigration },
  encrypted: [encryptedColumn({
    table: "nas_targets",
    key: ["id"],
    blob: "credentials",
    keyId: "credentials_key_id",
    context: (r) => nasCredentialsContext(r.id),
  })],
  // No navigation entry of its own: the Storage page has a "NAS backups" tab.
});
