import { type ApiRoutes, SHELL } from "../../../lib/http/app.ts";
import * as apps from "./apps.ts";
import * as appMetrics from "./app_metrics.ts";
import * as cluster from "./cluster.ts";
import * as proxyRoutes from "./proxy_routes.ts";
import * as secrets from "./secrets.ts";
import * as templates from "./templates.ts";
import * as compose from "./compose.ts";
import * as builds from "./builds.ts";
import * as storage from "./storage.ts";
import * as nas from "./nas.ts";
import * as system from "./system.ts";
import * as me from "./me.ts";
import * as orgs from "./orgs.ts";
import * as members from "./members.ts";
import * as tokens from "./tokens.ts";
import * as audit from "./audit.ts";
import * as users from "./users.ts";
import * as agentReport from "./agent_report.ts";
import * as metrics from "./metrics.ts";
import * as prometheus from "./prometheus.ts";
import * as agent from "./agent.ts";
import * as hosts from "./hosts.ts";
import * as containerStreams from "./container_streams.ts";
import * as containers from "./containers.ts";
import * as images from "./images.ts";
import * as networks from "./networks.ts";
import * as volumes from "./volumes.ts";
import * as alertRules from "./alert_rules.ts";
import * as channels from "./channels.ts";
import * as alerts from "./alerts.ts";
import * as agentReleases from "./agent_releases.ts";
import * as healthChecks from "./health_checks.ts";
import * as containerSettings from "./container_settings.ts";
import * as deprecated from "./deprecated.ts";
import * as storageTargets from "./storage_targets.ts";
import * as storageSchedules from "./storage_schedules.ts";
import * as billing from "./billing.ts";
import * as quotas from "./quotas.ts";
import * as topology from "./topology.ts";

/** Static registry of the v1 API's route files, by the module that owns them (modules.ts) or SHELL. */
export const apiRoutes: Record<string, ApiRoutes[]> = {
  [SHELL]: [system, deprecated],
  auth: [me, tokens, users],
  orgs: [orgs, members],
  audit: [audit],
  hosts: [hosts],
  agents: [agent],
  metrics: [agentReport, metrics, prometheus],
  alerts: [alertRules, channels, alerts],
  health: [healthChecks],
  releases: [agentReleases],
  docker: [containerStreams, containers, images, networks, volumes, containerSettings],
  secrets: [secrets],
  quotas: [quotas],
  apps: [apps, appMetrics, cluster],
  proxy: [proxyRoutes],
  templates: [templates, compose],
  builds: [builds],
  snapshots: [storage, storageTargets, storageSchedules],
  nas: [nas],
  billing: [billing],
  topology: [topology],
};
