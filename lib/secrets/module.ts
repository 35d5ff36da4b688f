/**
 * The secrets feature: organizations' secrets, encrypted at rest under the hub's key ring, with
 * versions, a trail and a daily purge of versions past their retention. It comes before the apps
 * module, which resolves secrets for deployments, registers itself as their consumer and listens
 * for rotations (lib/secrets/events.ts).
 */
import { defineModule, encryptedColumn } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { createSecretStore } from "./store.ts";
import { createSecrets, type Secrets, versionContext } from "./service.ts";
import * as secretsMigration from "./migration.ts";

export const secretsModule = defineModule<{ secrets: Secrets }, { audit: AuditLog }>({
  name: "secrets",
  deps: ["audit"],
  services: (core, { audit }) => ({
    secrets: createSecrets({
      store: createSecretStore(core.db, core.clock),
      box: core.secretBox,
      audit,
      events: core.events,
      clock: core.clock,
      log: core.log,
      retentionDays: core.config.secretsKeepDays,
    }),
  }),
  jobs: ({ secrets }) => [{
    name: "secrets_purge",
    schedule: "17 * * * *",
    intervalMs: 3_600_000,
    // Versions older than CAPSTAN_SECRETS_KEEP_DAYS that no running deployment uses.
    run: () => secrets.purge(),
  }],
  migrations: { "0014_secrets": secretsMigration },
  // Every version's value; key_id follows the blob, so the start-up check reads only that index.
  encrypted: [encryptedColumn({
    table: "secret_versions",
    key: ["secret_id", "version"],
    blob: "blob",
    keyId: "key_id",
    context: (r) => versionContext(r.secret_id, Number(r.version)),
  })],
  nav: [{
    key: "secrets",
    group: "Apps",
    label: "Secrets",
    scope: "org",
    path: "/secrets",
    order: 7,
  }],
});
