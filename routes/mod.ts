import type { Hono } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import type { PageKit } from "./_render.tsx";
import { type PageRoutes, SHELL } from "../lib/http/app.ts";
import * as settingsPanel from "./o/[org]/settings/[panel].tsx";
import { useSentenceMessages } from "../lib/util/zod_messages.ts";
import * as staticAssets from "./static.ts";
import * as theme from "./theme.ts";
import * as login from "./login.tsx";
import * as logout from "./logout.ts";
import * as setup from "./setup.tsx";
import * as home from "./index.tsx";
import * as orgHome from "./o/[org]/index.tsx";
import * as members from "./o/[org]/members.tsx";
import * as invitations from "./o/[org]/invitations.tsx";
import * as audit from "./o/[org]/audit.tsx";
import * as hosts from "./o/[org]/hosts/index.tsx";
import * as hostNew from "./o/[org]/hosts/new.tsx";
import * as host from "./o/[org]/hosts/[hostId].tsx";
import * as hostRotate from "./o/[org]/hosts/[hostId]/rotate.tsx";
import * as hostRemove from "./o/[org]/hosts/[hostId]/remove.tsx";
import * as account from "./account/index.tsx";
import * as tokens from "./account/tokens.tsx";
import * as adminUsers from "./admin/users.tsx";
import * as adminOrgs from "./admin/orgs.tsx";
import * as adminQuotas from "./admin/quotas.tsx";
import * as adminQuotasUsage from "./admin/quotas/usage.tsx";
import * as orgQuotas from "./o/[org]/quotas.tsx";
import * as apiDocs from "./docs/api.tsx";
import * as containerDetail from "./o/[org]/containers/[hostId]/[containerId].tsx";
import * as containerLifecycle from "./o/[org]/containers/[hostId]/[containerId]/[action].ts";
import * as containerKill from "./o/[org]/containers/[hostId]/[containerId]/kill.tsx";
import * as containerRemove from "./o/[org]/containers/[hostId]/[containerId]/remove.tsx";
import * as containers from "./o/[org]/containers/index.tsx";
import * as containerNew from "./o/[org]/containers/new.tsx";
import * as images from "./o/[org]/images.tsx";
import * as networks from "./o/[org]/networks.tsx";
import * as volumes from "./o/[org]/volumes.tsx";
import * as metricsSettings from "./o/[org]/settings/metrics.tsx";
import * as containerSettings from "./o/[org]/settings/containers.tsx";
import * as notifications from "./o/[org]/notifications.tsx";
import * as alertRules from "./o/[org]/alerts/rules.tsx";
import * as alertChannels from "./o/[org]/alerts/channels.tsx";
import * as health from "./o/[org]/health/index.tsx";
import * as healthNew from "./o/[org]/health/new.tsx";
import * as healthDetail from "./o/[org]/health/[id].tsx";
import * as healthEdit from "./o/[org]/health/[id]/edit.tsx";
import * as healthDelete from "./o/[org]/health/[id]/delete.tsx";
import * as apps from "./o/[org]/apps/index.tsx";
import * as appNew from "./o/[org]/apps/new.tsx";
import * as appDetail from "./o/[org]/apps/[app].tsx";
import * as appActions from "./o/[org]/apps/[app]/[action].ts";
import * as appEdit from "./o/[org]/apps/[app]/edit.tsx";
import * as appDelete from "./o/[org]/apps/[app]/delete.tsx";
import * as appMove from "./o/[org]/apps/[app]/move.tsx";
import * as appDeployment from "./o/[org]/apps/[app]/deployments/[n].tsx";
import * as workers from "./o/[org]/workers.tsx";
import * as clusterSettings from "./o/[org]/settings/cluster.tsx";
import * as routesList from "./o/[org]/routes/index.tsx";
import * as routeNew from "./o/[org]/routes/new.tsx";
import * as routeDetail from "./o/[org]/routes/[id].tsx";
import * as routeEdit from "./o/[org]/routes/[id]/edit.tsx";
import * as routeDelete from "./o/[org]/routes/[id]/delete.tsx";
import * as routeCheckDns from "./o/[org]/routes/[id]/check-dns.ts";
import * as proxySettings from "./o/[org]/settings/proxy.tsx";
import * as secretsList from "./o/[org]/secrets/index.tsx";
import * as secretNew from "./o/[org]/secrets/new-secret.tsx";
import * as secretDetail from "./o/[org]/secrets/[name].tsx";
import * as secretRotate from "./o/[org]/secrets/[name]/rotate.ts";
import * as secretDescription from "./o/[org]/secrets/[name]/description.ts";
import * as secretDelete from "./o/[org]/secrets/[name]/delete.tsx";
import * as templatesList from "./o/[org]/templates/index.tsx";
import * as templateNew from "./o/[org]/templates/new.tsx";
import * as templateImport from "./o/[org]/templates/import.tsx";
import * as templateDetail from "./o/[org]/templates/[id].tsx";
import * as templateEdit from "./o/[org]/templates/[id]/edit.tsx";
import * as templateDelete from "./o/[org]/templates/[id]/delete.tsx";
import * as provisionPage from "./o/[org]/provisions/[id].tsx";
import * as appDeprovision from "./o/[org]/apps/[app]/deprovision.tsx";
import * as buildSource from "./o/[org]/apps/[app]/source.tsx";
import * as buildsList from "./o/[org]/apps/[app]/builds.tsx";
import * as buildDetail from "./o/[org]/apps/[app]/builds/[n].tsx";
import * as storageTargets from "./o/[org]/storage/targets.tsx";
import * as storageIndex from "./o/[org]/storage/index.tsx";
import * as storageVolume from "./o/[org]/storage/hosts/[host]/volumes/[name].tsx";
import * as buildWebhook from "./o/[org]/apps/[app]/webhook.tsx";
import * as nasPage from "./o/[org]/storage/nas.tsx";
import * as billingPage from "./o/[org]/billing.tsx";
import * as adminBilling from "./admin/billing.tsx";
import * as orgTopology from "./o/[org]/topology.tsx";
import * as adminTopology from "./admin/topology.tsx";

export type { PageKit };
export { renderErrorPage } from "./_error.tsx";

/**
 * Static registry of page files (DESIGN §4: no folder scanning at run time), by the module that owns
 * them (modules.ts) or SHELL for the hub's own frame. Within an owner, order matters where a fixed
 * segment and a parameter compete ("/hosts/new" is not a host id).
 */
export const pageRoutes: Record<string, PageRoutes[]> = {
  [SHELL]: [staticAssets, theme, home, apiDocs, settingsPanel],
  auth: [login, logout, account, tokens, adminUsers],
  orgs: [setup, members, invitations, adminOrgs],
  quotas: [orgQuotas, adminQuotas, adminQuotasUsage],
  audit: [audit],
  hosts: [orgHome, hosts, hostNew, host, hostRotate, hostRemove],
  metrics: [metricsSettings],
  alerts: [notifications, alertRules, alertChannels],
  health: [health, healthNew, healthDetail, healthEdit, healthDelete],
  docker: [
    containerDetail,
    containerLifecycle,
    containerKill,
    containerRemove,
    containers,
    containerNew,
    images,
    networks,
    volumes,
    containerSettings,
  ],
  apps: [
    apps,
    appNew,
    appDetail,
    appActions,
    appEdit,
    appDelete,
    appMove,
    appDeployment,
    workers,
    clusterSettings,
  ],
  secrets: [
    secretsList,
    secretNew,
    secretDetail,
    secretRotate,
    secretDescription,
    secretDelete,
  ],
  proxy: [
    routesList,
    routeNew,
    routeDetail,
    routeEdit,
    routeDelete,
    routeCheckDns,
    proxySettings,
  ],
  // "new" and "import" before ":id" (template ids cannot take them: lib/templates/format.ts).
  templates: [
    templatesList,
    templateNew,
    templateImport,
    templateDetail,
    templateEdit,
    templateDelete,
    provisionPage,
    appDeprovision,
  ],
  // "builds/new" (a POST) before "builds/:n".
  builds: [buildSource, buildsList, buildDetail, buildWebhook],
  snapshots: [storageIndex, storageTargets, storageVolume],
  nas: [nasPage],
  billing: [billingPage, adminBilling],
  topology: [orgTopology, adminTopology],
};

/** Before any page registers: validation wording, and the manifest for the layout's own island. */
export function preparePages(app: Hono<AppEnv>, kit: PageKit): void {
  // Validation messages reach forms (and the API) as sentences, not zod's developer wording.
  useSentenceMessages();
  // The layout's own island (the notification bell) needs the manifest on every page.
  app.use("*", async (c, next) => {
    c.set("pageManifest", kit.manifest);
    c.set("pageSetup", kit);
    await next();
  });
}
