/**
 * The hub's feature modules, in order (DESIGN §7). A module's services may use those of modules
 * listed before it; the composition root (services.ts, hub.ts, app.ts), the route indexes, the
 * scheduler, realtime access, the navigation, the settings frame and shutdown iterate over this
 * list. To add a feature: a folder under lib/ with a `module.ts`, and one line here.
 */
import { auditModule } from "./lib/audit/module.ts";
import { authModule } from "./lib/auth/module.ts";
import { orgsModule } from "./lib/orgs/module.ts";
import { hostsModule } from "./lib/hosts/module.ts";
import { agentsModule } from "./lib/agents/module.ts";
import { metricsModule } from "./lib/metrics/module.ts";
import { alertsModule } from "./lib/alerts/module.ts";
import { healthModule } from "./lib/health/module.ts";
import { releasesModule } from "./lib/releases/module.ts";
import { dockerModule } from "./lib/docker/module.ts";
import { secretsModule } from "./lib/secrets/module.ts";
import { quotasModule } from "./lib/quotas/module.ts";
import { appsModule } from "./lib/apps/module.ts";
import { proxyModule } from "./lib/proxy/module.ts";
import { templatesModule } from "./lib/templates/module.ts";
import { buildsModule } from "./lib/builds/module.ts";
import { snapshotsModule } from "./lib/snapshots/module.ts";
import { nasModule } from "./lib/nas/module.ts";
import { topologyModule } from "./lib/topology/module.ts";
import { systemModule } from "./lib/system/module.ts";
import { billingModule } from "./lib/billing/module.ts";
import { enforcementModule } from "./lib/enforcement/module.ts";

export const MODULES = [
  auditModule,
  authModule,
  orgsModule,
  hostsModule,
  agentsModule,
  metricsModule,
  // Alerts listen to agents, metrics and health; they subscribe first, so they hear first.
  alertsModule,
  healthModule,
  releasesModule,
  dockerModule,
  // Before apps: a deployment resolves its secrets; apps register as their consumers.
  secretsModule,
  // Before apps: apps admit their intents through quotaAdmission.
  quotasModule,
  appsModule,
  proxyModule,
  templatesModule,
  buildsModule,
  snapshotsModule,
  nasModule,
  // After every module whose services it reads (it builds the map from them).
  topologyModule,
  systemModule,
  billingModule,
  // After apps and billing: stops apps through the apps service once a grace period is over.
  enforcementModule,
] as const;
