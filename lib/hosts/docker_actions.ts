/**
 * Docker actions on an organization's hosts, shared by the API and the pages so both apply the
 * same rules: the create policy, force only for admins, protected system networks, clear 409s for
 * resources in use, and one audit row per action through `operate`. One file per Engine resource;
 * this one holds what they share and is the feature's face for routes.
 */
import type { Db, Dialect } from "../db/mod.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import type { ActionContext } from "../audit/service.ts";
import type { OperateDeps } from "./operate.ts";
import type { EventBus } from "../events.ts";

export {
  CONTAINER_ACTIONS,
  type ContainerAction,
  containerAction,
  createContainer,
  inspectContainer,
  removeContainer,
} from "./container_actions.ts";
export { listImages, pruneImages, removeImage } from "./image_actions.ts";
export {
  createNetwork,
  listNetworks,
  type NetworkInput,
  removeNetwork,
} from "./network_actions.ts";
export { createVolume, listVolumes, removeVolume } from "./volume_actions.ts";

/** What the actions need from the services. */
export interface DockerDeps extends OperateDeps {
  db: Db;
  dbh: { dialect: Dialect };
  /** Where domain events go (a container stopped by a user). */
  events?: Pick<EventBus, "emit">;
}

/** Who is acting, in which organization, with which role (platform admins count as owners). */
export interface DockerCaller {
  ctx: ActionContext;
  orgId: string;
  role: OrgRole;
  tokenScope?: TokenScope;
}
