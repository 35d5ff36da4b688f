/** The health feature: HTTP, TCP and command checks run by the agents, their history and states. */
import { defineModule } from "../module.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { AuditLog } from "../audit/service.ts";
import { createHealth, type Health } from "./mod.ts";

export const healthModule = defineModule<
  { health: Health },
  { audit: AuditLog; agents: AgentRegistry }
>({
  name: "health",
  deps: ["audit", "agents"],
  services: (core, { audit, agents }) => ({
    health: createHealth({
      db: core.db,
      clock: core.clock,
      bus: core.bus,
      realtime: core.realtime,
      log: core.log,
      audit,
      agents,
      events: core.events,
      retentionDays: core.config.healthRetentionDays,
      allowPrivateTargets: core.config.allowPrivateTargets,
    }),
  }),
  jobs: ({ health }) => health.jobs(),
  topics: topicRoles([topics.health]),
  nav: [{ key: "health", group: "Monitoring", label: "Health", scope: "org", path: "/health" }],
  stop: ({ health }) => health.close(),
});
