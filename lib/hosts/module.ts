/** The hosts feature: enrollment, agent tokens, host facts and the container cache. */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { createHosts, type Hosts } from "./service.ts";

export const hostsModule = defineModule<{ hosts: Hosts }, { audit: AuditLog }>({
  name: "hosts",
  deps: ["audit"],
  services: (core, { audit }) => ({
    hosts: createHosts(core.db, core.clock, audit, core.events),
  }),
  nav: [
    { key: "home", group: "Fleet", label: "Dashboard", scope: "org", path: "", order: 0 },
    { key: "hosts", group: "Fleet", label: "Hosts", scope: "org", path: "/hosts", order: 10 },
  ],
});
