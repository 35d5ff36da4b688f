/** Table types of the apps module (its migration: lib/apps/migration.ts). */

/** The install's one Swarm cluster. */
export interface SwarmClusterTable {
  id: string;
  swarm_id: string;
  manager_host_id: string | null;
  advertise_addr: string;
  routing_mesh: number;
  encrypted_networks: number;
  adopted: number;
  created_by: string | null;
  created_at: number;
}

/** Which host is which Swarm node. */
export interface SwarmMembersTable {
  host_id: string;
  node_id: string;
  role: "manager" | "worker";
  joined_at: number;
}

export type DesiredState = "running" | "stopped";
export type MigrationPolicy = "automatic" | "manual" | "none";
export type DeploymentStatus =
  | "pending"
  | "deploying"
  | "running"
  | "failed"
  | "rolled_back"
  | "superseded";

export interface AppsTable {
  id: string;
  org_id: string;
  name: string;
  spec: string;
  migration_policy: MigrationPolicy;
  desired_state: DesiredState;
  current_deployment_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** Higher = more important; the quota action stops the lowest first (migration_priority.ts). */
  priority: number;
}

export interface DeploymentsTable {
  id: string;
  app_id: string;
  org_id: string;
  number: number;
  spec: string;
  images: string;
  /** JSON: service name → the Swarm node id it is pinned to (manual and none policies). */
  pins: string;
  /** JSON: secret name → { id, version } this deployment gave its services. */
  secrets: string;
  trigger: string;
  status: DeploymentStatus;
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface AppEventsTable {
  id: string;
  app_id: string;
  org_id: string;
  at: number;
  kind: string;
  message: string;
  data: string;
}

/** A container one of an app's Swarm tasks ran in (see task_containers.ts). */
export interface AppTaskContainersTable {
  host_id: string;
  container_id: string;
  app_id: string;
  org_id: string;
  service: string;
  slot: number | null;
  task_id: string;
  first_seen: number;
  last_seen: number;
}

/** The apps module's tables, merged into the database type by lib/db/schema.ts. */
export interface AppsTables {
  swarm_cluster: SwarmClusterTable;
  swarm_members: SwarmMembersTable;
  apps: AppsTable;
  deployments: DeploymentsTable;
  app_events: AppEventsTable;
  app_task_containers: AppTaskContainersTable;
}
