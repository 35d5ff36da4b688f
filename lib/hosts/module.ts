/** The hosts feature: enrollment, agent tokens, host facts and the container cache. */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { createHosts, type Hosts } from "./service.ts";
import * as resticMigration from "./migration_restic.ts";

export const hostsModule = defineModule<{ hosts: Hosts }, { audit: AuditLog }>({
  name: "hosts",
  deps: ["audit"],
  services: (core, { audit }) => ({
    hosts: createHosts(core.db, core.clock, audit, core.events),
  }),
  // "0018a": beside other 0018/0019 migrations being made at the same time, never clashing.
  migrations: { "0018a_hosts_restic": resticMigration },
  nav: [
    { key: "home", group: "Fleet", label: "Dashboard", scope: "org", path: "", order: 0 },
    { key: "hosts", group: "Fleet", label: "Hosts", scope: "org", path: "/hosts", order: 10 },
  ],
});
