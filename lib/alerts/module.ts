/**
 * The alerts feature: rules, channels, the engine (it listens to committed metric batches, agent
 * events, health changes and host renames), deliveries and the notification history.
 */
import { defineModule, encryptedColumn } from "../module.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Orgs } from "../orgs/service.ts";
import { cachedContainerName, enrolledHostFacts, hostFacts } from "../hosts/facts.ts";
import { lastReportTimes, seriesSeen } from "../metrics/reports.ts";
import { type Alerts, createAlerts } from "./service.ts";
import { channelContext } from "./channels/store.ts";

export const alertsModule = defineModule<
  { alerts: Alerts },
  { audit: AuditLog; orgs: Orgs; agents: AgentRegistry }
>({
  name: "alerts",
  deps: ["audit", "orgs", "agents"],
  services: (core, { audit, orgs, agents }) => {
    const { db, config } = core;
    return {
      alerts: createAlerts({
        dbh: core.dbh,
        clock: core.clock,
        bus: core.bus,
        realtime: core.realtime,
        log: core.log,
        audit,
        events: core.events,
        box: core.secretBox,
        allowPrivateTargets: config.allowPrivateTargets,
        retentionDays: config.alertsRetentionDays,
        publicUrl: config.publicUrl,
        isOnline: (hostId) => agents.isOnline(hostId),
        facts: {
          host: (hostId) => hostFacts(db, hostId),
          enrolledHosts: () => enrolledHostFacts(db),
          containerName: (hostId, id) => cachedContainerName(db, hostId, id),
          orgSlug: async (orgId) => (await orgs.byId(orgId))?.slug,
          lastReports: (since) => lastReportTimes(db, since),
          seriesSeen: (orgId, limit) => seriesSeen(db, orgId, limit),
        },
      }),
    };
  },
  jobs: ({ alerts }) => alerts.jobs(),
  // A channel's whole config, bound to its id.
  encrypted: [encryptedColumn({
    table: "alert_channels",
    key: ["id"],
    blob: "config",
    context: (r) => channelContext(r.id),
  })],
  topics: topicRoles([topics.alerts]),
  nav: [
    {
      key: "notifications",
      group: "Monitoring",
      label: "Notifications",
      scope: "org",
      path: "/notifications",
      order: 10,
    },
    {
      key: "alert_rules",
      group: "Monitoring",
      label: "Alert rules",
      scope: "org",
      path: "/alerts/rules",
      order: 20,
    },
    {
      key: "channels",
      group: "Monitoring",
      label: "Channels",
      scope: "org",
      path: "/alerts/channels",
      minRole: "admin",
      order: 30,
    },
  ],
  close: ({ alerts }) => alerts.close(),
});
