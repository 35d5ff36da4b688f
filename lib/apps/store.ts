/**
 * Apps, deployments and the app timeline in the database. Specs and snapshots are JSON text; a
 * deployment is written once and afterwards only its status, reason and times change. At most one
 * deployment of an app is pending or deploying at a time: the check and the insert share a
 * transaction, and the (app, number) key settles two racing replicas.
 */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, Invalid, NotFound } from "../errors.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type { AppSpec } from "./spec.ts";
import { dialectOf } from "../db/dialect_of.ts";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import type {
  AppsTable,
  DeploymentsTable,
  DeploymentStatus,
  DesiredState,
  MigrationPolicy,
} from "./tables.ts";

/** An app as services and the API see it. */
export interface App {
  id: string;
  org_id: string;
  name: string;
  spec: AppSpec;
  migration_policy: MigrationPolicy;
  desired_state: DesiredState;
  current_deployment_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** Higher = more important (default 0): a quota violation's action stops the lowest first. */
  priority: number;
}

/** Who or what started a deployment. */
export interface Trigger {
  kind:
    | "create"
    | "deploy"
    | "rollback"
    | "scale"
    | "restart"
    | "start"
    | "stop"
    | "move"
    | "policy"
    | "secret"
    | "build";
  actor_type: "user" | "token" | "system";
  actor_id: string | null;
  /** For a rollback: the deployment whose snapshot was deployed again. */
  from?: string;
  /** For a secret rotation: which secret, its new version and how the tasks are replaced. */
  secret?: string;
  version?: number;
  mode?: "rolling" | "restart";
  /** For a build: the build, the service it built and the commit it built. */
  build?: { id: string; number: number; service: string; commit: string | null; branch: string };
}

/** A secret version a deployment used. */
export interface DeployedSecret {
  id: string;
  version: number;
}

/** A deployment: the snapshot and its outcome. */
export interface Deployment {
  id: string;
  app_id: string;
  org_id: string;
  number: number;
  spec: AppSpec;
  images: Record<string, string>;
  /** Service name → the Swarm node id it is pinned to (manual and none policies). */
  pins: Record<string, string>;
  /** Secret name → the secret's id and the version this deployment gave its services. */
  secrets: Record<string, DeployedSecret>;
  trigger: Trigger;
  status: DeploymentStatus;
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** One line of an app's timeline. */
export interface AppEvent {
  id: string;
  at: number;
  kind: string;
  message: string;
  data: Record<string, unknown>;
}

const ACTIVE: DeploymentStatus[] = ["pending", "deploying"];
const MAX_PAGE = 200;

function appOf(r: AppsTable): App {
  return {
    ...r,
    spec: JSON.parse(r.spec),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    priority: Number(r.priority ?? 0),
  };
}

function deploymentOf(r: DeploymentsTable): Deployment {
  return {
    ...r,
    number: Number(r.number),
    spec: JSON.parse(r.spec),
    images: JSON.parse(r.images),
    pins: JSON.parse(r.pins ?? "{}"),
    secrets: JSON.parse(r.secrets ?? "{}"),
    trigger: JSON.parse(r.trigger),
    created_at: Number(r.created_at),
    started_at: r.started_at === null ? null : Number(r.started_at),
    finished_at: r.finished_at === null ? null : Number(r.finished_at),
  };
}

/** What an organization's apps hold against its quotas (lib/quotas), in integer units. */
export interface AppsUse {
  apps: number;
  cpu_millis: number;
  memory_bytes: number;
  /**
   * The per-service limit's figure: as counted for the page, the most replicas any service of an
   * app meant to run has; handed to a gate, the replicas (before it) of the service a request
   * grows most.
   */
  replicas_per_service: number;
}

/**
 * The admission verdict the store asks for inside the transaction that records an intent
 * (lib/quotas AdmissionGate): throws to refuse; `use` is before the request, `adds` its change.
 */
export type QuotaGate = (
  use: Partial<AppsUse>,
  adds: Partial<AppsUse>,
  opts?: { deploying?: boolean },
) => void;

/**
 * What an app's saved spec reserves while it is meant to run: per service its reservations ×
 * replicas (a global service counts as one task: its node count is Swarm's, not the spec's).
 * A stopped app reserves nothing; services without reservations reserve nothing.
 */
export function specUse(
  spec: AppSpec,
  running = true,
): { cpu_millis: number; memory_bytes: number } {
  let cpu = 0;
  let mem = 0;
  if (!running) return { cpu_millis: 0, memory_bytes: 0 };
  for (const s of spec.services) {
    const n = s.global ? 1 : s.replicas;
    const r = s.resources?.reservations;
    cpu += n * Math.round((r?.cpus ?? 0) * 1000);
    mem += n * (r?.memory_bytes ?? 0);
  }
  return { cpu_millis: cpu, memory_bytes: mem };
}

/** The change of a spec to the next as a quota sees it (only increases of replicas count). */
function changeOf(
  before: { spec: AppSpec; running: boolean } | undefined,
  after: { spec: AppSpec; running: boolean },
): { adds: Partial<AppsUse>; replicasBefore: number } {
  const a = specUse(after.spec, after.running);
  const b = before ? specUse(before.spec, before.running) : { cpu_millis: 0, memory_bytes: 0 };
  // The per-service limit judges the service that grows most: its replicas before and after.
  let grow = 0;
  let from = 0;
  for (const s of after.spec.services) {
    if (s.global) continue;
    const old = before?.spec.services.find((x) => x.name === s.name);
    const was = old && !old.global ? old.replicas : 0;
    if (s.replicas > was && s.replicas - was > grow) {
      grow = s.replicas - was;
      from = was;
    }
  }
  return {
    adds: {
      apps: before ? 0 : 1,
      cpu_millis: a.cpu_millis - b.cpu_millis,
      memory_bytes: a.memory_bytes - b.memory_bytes,
      replicas_per_service: grow,
    },
    replicasBefore: from,
  };
}

/** Creates the apps store. */
export function createAppStore(db: Db, clock: Clock) {
  const postgres = dialectOf(db) === "postgres";

  /**
   * The organization's use, read in `tx`. On PostgreSQL a transaction-scoped advisory lock per
   * organization is taken first, so two requests of one org count and write one after the other
   * (two could otherwise both read the same use and both pass); on SQLite every write
   * transaction begins IMMEDIATE (lib/db/sqlite.ts) and so is already alone.
   */
  async function lockedUse(tx: Transaction<Database>, orgId: string): Promise<AppsUse> {
    if (postgres) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${"capstan.quota:" + orgId}, 0))`
        .execute(tx);
    }
    return await countUse(tx, orgId);
  }

  async function countUse(q: Db | Transaction<Database>, orgId: string): Promise<AppsUse> {
    const rows = await q.selectFrom("apps").select(["spec", "desired_state"])
      .where("org_id", "=", orgId).execute();
    const use: AppsUse = {
      apps: rows.length,
      cpu_millis: 0,
      memory_bytes: 0,
      replicas_per_service: 0,
    };
    for (const r of rows) {
      const u = specUse(JSON.parse(r.spec), r.desired_state === "running");
      use.cpu_millis += u.cpu_millis;
      use.memory_bytes += u.memory_bytes;
      if (r.desired_state !== "running") continue;
      for (const sv of (JSON.parse(r.spec) as AppSpec).services) {
        if (!sv.global) use.replicas_per_service = Math.max(use.replicas_per_service, sv.replicas);
      }
    }
    return use;
  }

  /** Runs `gate` on an intent: `before` is the app as saved (undefined: a new app). */
  function admit(
    gate: QuotaGate,
    use: AppsUse,
    before: { spec: AppSpec; running: boolean } | undefined,
    after: { spec: AppSpec; running: boolean },
    deploying: boolean,
  ) {
    const { adds, replicasBefore } = changeOf(before, after);
    gate({ ...use, replicas_per_service: replicasBefore }, adds, { deploying });
  }

  return {
    /**
     * The organization's use now, outside a transaction: for pages, and for an early answer
     * (a template deploy) that the transactional check repeats when the intent is recorded.
     */
    async use(orgId: string): Promise<AppsUse> {
      return await countUse(db, orgId);
    },

    /** The change `spec` would make as a new app, against the organization's use now. */
    async precheck(orgId: string, spec: AppSpec, gate: QuotaGate): Promise<void> {
      const use = await this.use(orgId);
      admit(gate, use, undefined, { spec, running: true }, true);
    },

    /** Creates an app; 409 when the name is taken in the organization. */
    async create(
      orgId: string,
      input: { name: string; spec: AppSpec; migration_policy?: MigrationPolicy; priority?: number },
      createdBy: string | null,
      /** Admission (lib/quotas): asked in the transaction that inserts the app. */
      gate?: QuotaGate,
      deploying = true,
    ): Promise<App> {
      const now = clock.now();
      const row: AppsTable = {
        id: uuidv7(now),
        org_id: orgId,
        name: input.name,
        spec: JSON.stringify(input.spec),
        migration_policy: input.migration_policy ?? "automatic",
        desired_state: "running",
        current_deployment_id: null,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
        priority: input.priority ?? 0,
      };
      try {
        if (gate) {
          await db.transaction().execute(async (tx) => {
            admit(gate, await lockedUse(tx, orgId), undefined, {
              spec: input.spec,
              running: true,
            }, deploying);
            await tx.insertInto("apps").values(row).execute();
          });
        } else await db.insertInto("apps").values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new Conflict(
            `Cannot create app "${input.name}": name is already in use`,
            "conflict",
            { name: "is already in use in this organization" },
          );
        }
        throw err;
      }
      return appOf(row);
    },

    /** An app of the organization, or 404. */
    async get(orgId: string, idOrName: string): Promise<App> {
      const r = await db.selectFrom("apps").selectAll().where("org_id", "=", orgId)
        .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
        .executeTakeFirst();
      if (!r) throw new NotFound(`No app "${idOrName}" in this organization`);
      return appOf(r);
    },

    /** An app by id in any organization (jobs), or undefined. */
    async byId(id: string): Promise<App | undefined> {
      const r = await db.selectFrom("apps").selectAll().where("id", "=", id).executeTakeFirst();
      return r ? appOf(r) : undefined;
    },

    /** Apps of an organization by name, optionally searched, a page at a time. */
    async list(
      orgId: string,
      f: { search?: string; limit?: number; offset?: number } = {},
    ): Promise<{ apps: App[]; total: number }> {
      let q = db.selectFrom("apps").where("org_id", "=", orgId);
      if (f.search) q = q.where("name", "like", `%${f.search.replace(/[%_\\]/g, "")}%`);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy("name").limit(Math.min(f.limit ?? 50, MAX_PAGE))
          .offset(f.offset ?? 0).execute(),
        q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return { apps: rows.map(appOf), total: Number(count.n) };
    },

    /** Every app of an organization (secret usage; an organization has a bounded number). */
    async ofOrg(orgId: string): Promise<App[]> {
      return (await db.selectFrom("apps").selectAll().where("org_id", "=", orgId).orderBy("name")
        .execute()).map(appOf);
    },

    /** Every app of every organization (the reconciler). */
    async all(): Promise<App[]> {
      return (await db.selectFrom("apps").selectAll().execute()).map(appOf);
    },

    /**
     * Saves a new spec (deployed only when asked) and/or settings. With `gate`, the change is
     * admitted against the organization's quotas in the same transaction as the write: the saved
     * spec of an app meant to run is what it holds against them.
     */
    async update(
      app: App,
      patch: {
        spec?: AppSpec;
        migration_policy?: MigrationPolicy;
        desired_state?: DesiredState;
        priority?: number;
      },
      gate?: QuotaGate,
      deploying = false,
    ): Promise<App> {
      const now = clock.now();
      const write = (q: Db | Transaction<Database>) =>
        q.updateTable("apps").set({
          ...(patch.spec ? { spec: JSON.stringify(patch.spec) } : {}),
          ...(patch.migration_policy ? { migration_policy: patch.migration_policy } : {}),
          ...(patch.desired_state ? { desired_state: patch.desired_state } : {}),
          ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
          updated_at: now,
        }).where("id", "=", app.id).execute();
      if (!gate) await write(db);
      else {
        await db.transaction().execute(async (tx) => {
          const use = await lockedUse(tx, app.org_id);
          // The row as saved now, not as the caller read it: another request may have changed it.
          const r = await tx.selectFrom("apps").select(["spec", "desired_state"])
            .where("id", "=", app.id).executeTakeFirst();
          if (!r) throw new NotFound(`No app "${app.name}" in this organization`);
          const before = {
            spec: JSON.parse(r.spec) as AppSpec,
            running: r.desired_state === "running",
          };
          admit(gate, use, before, {
            spec: patch.spec ?? before.spec,
            running: (patch.desired_state ?? r.desired_state) === "running",
          }, deploying);
          await write(tx);
        });
      }
      return { ...app, ...patch, updated_at: now };
    },

    /**
     * Marks a running app stopped only if it still is (a conditional write): of two hub replicas
     * acting on the same decision exactly one gets true and goes on to stop and audit it.
     */
    async claimStop(app: App): Promise<boolean> {
      const r = await db.updateTable("apps").set({
        desired_state: "stopped",
        updated_at: clock.now(),
      })
        .where("id", "=", app.id).where("desired_state", "=", "running").executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Deletes an app with its deployments and timeline. */
    async remove(app: App): Promise<void> {
      await db.deleteFrom("apps").where("id", "=", app.id).execute();
    },

    /**
     * Records a new pending deployment of `spec`; 409 while another deployment of the app is
     * pending or deploying.
     */
    async startDeployment(
      app: App,
      d: {
        spec: AppSpec;
        trigger: Trigger;
        images?: Record<string, string>;
        /** Pins asked for (a move); the deployer fills in the rest from the current ones. */
        pins?: Record<string, string>;
        /** Secret versions asked for (a rollback); the deployer resolves the rest to current. */
        secrets?: Record<string, DeployedSecret>;
      },
    ): Promise<Deployment> {
      const now = clock.now();
      try {
        return await db.transaction().execute(async (tx) => {
          const running = await tx.selectFrom("deployments").select(["number"])
            .where("app_id", "=", app.id).where("status", "in", ACTIVE).executeTakeFirst();
          if (running) {
            throw new Conflict(
              `Cannot deploy app "${app.name}": deployment #${running.number} is still in progress`,
              "deploy_in_progress",
            );
          }
          const last = await tx.selectFrom("deployments")
            .select((eb) => eb.fn.max("number").as("n")).where("app_id", "=", app.id)
            .executeTakeFirst();
          const row: DeploymentsTable = {
            id: uuidv7(now),
            app_id: app.id,
            org_id: app.org_id,
            number: Number(last?.n ?? 0) + 1,
            spec: JSON.stringify(d.spec),
            images: JSON.stringify(d.images ?? {}),
            pins: JSON.stringify(d.pins ?? {}),
            secrets: JSON.stringify(d.secrets ?? {}),
            trigger: JSON.stringify(d.trigger),
            status: "pending",
            reason: null,
            created_at: now,
            started_at: null,
            finished_at: null,
          };
          await tx.insertInto("deployments").values(row).execute();
          return deploymentOf(row);
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new Conflict(
            `Cannot deploy app "${app.name}": another deployment started at the same moment`,
            "deploy_in_progress",
          );
        }
        throw err;
      }
    },

    /** Records the secret versions a deployment gives its services (before Swarm sees them). */
    async setSecrets(d: Deployment, secrets: Record<string, DeployedSecret>): Promise<void> {
      await db.updateTable("deployments").set({ secrets: JSON.stringify(secrets) })
        .where("id", "=", d.id).execute();
    },

    /** Secret versions of an organization's deployments in progress. */
    async secretsInProgress(orgId: string): Promise<DeployedSecret[]> {
      const rows = await db.selectFrom("deployments").select("secrets").where("org_id", "=", orgId)
        .where("status", "in", ACTIVE).execute();
      return rows.flatMap((r) =>
        Object.values(JSON.parse(r.secrets) as Record<string, DeployedSecret>)
      );
    },

    /** Moves a deployment on; `running` also makes it the app's current one (superseding the last). */
    async setStatus(
      d: Deployment,
      status: DeploymentStatus,
      extra: {
        reason?: string | null;
        images?: Record<string, string>;
        pins?: Record<string, string>;
        secrets?: Record<string, DeployedSecret>;
      } = {},
    ): Promise<void> {
      const now = clock.now();
      const done = ["running", "failed", "rolled_back", "superseded"].includes(status);
      await db.transaction().execute(async (tx) => {
        await tx.updateTable("deployments").set({
          status,
          ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
          ...(extra.images ? { images: JSON.stringify(extra.images) } : {}),
          ...(extra.pins ? { pins: JSON.stringify(extra.pins) } : {}),
          ...(extra.secrets ? { secrets: JSON.stringify(extra.secrets) } : {}),
          ...(status === "deploying" ? { started_at: now } : {}),
          ...(done ? { finished_at: now } : {}),
        }).where("id", "=", d.id).execute();
        if (status === "running") {
          await tx.updateTable("deployments").set({ status: "superseded" })
            .where("app_id", "=", d.app_id).where("status", "=", "running")
            .where("id", "!=", d.id).execute();
          await tx.updateTable("apps").set({ current_deployment_id: d.id, updated_at: now })
            .where("id", "=", d.app_id).execute();
        }
      });
    },

    /** One deployment of an app (by id or number), or 404. */
    async deployment(app: App, ref: string): Promise<Deployment> {
      let q = db.selectFrom("deployments").selectAll().where("app_id", "=", app.id);
      q = /^\d{1,9}$/.test(ref) ? q.where("number", "=", Number(ref)) : q.where("id", "=", ref);
      const r = await q.executeTakeFirst();
      if (!r) throw new NotFound(`No deployment "${ref}" of app "${app.name}"`);
      return deploymentOf(r);
    },

    /** The deployment before `d` (by number), if any. */
    async previous(d: Deployment): Promise<Deployment | undefined> {
      const r = await db.selectFrom("deployments").selectAll().where("app_id", "=", d.app_id)
        .where("number", "<", d.number).orderBy("number", "desc").limit(1).executeTakeFirst();
      return r ? deploymentOf(r) : undefined;
    },

    /** Deployments of an app, newest first, a page at a time (`before` a number). */
    async deployments(
      app: App,
      f: { before?: number; limit?: number } = {},
    ): Promise<Deployment[]> {
      let q = db.selectFrom("deployments").selectAll().where("app_id", "=", app.id);
      if (f.before !== undefined) q = q.where("number", "<", f.before);
      const rows = await q.orderBy("number", "desc").limit(Math.min(f.limit ?? 20, MAX_PAGE))
        .execute();
      return rows.map(deploymentOf);
    },

    /**
     * The image references pinned by every app's `keep` latest deployments (what the image
     * clean-up must leave), in one query: at most `keep` rows per app.
     */
    async recentImages(keep: number): Promise<string[]> {
      const rows = await db.selectFrom("deployments as d").select("d.images").where(
        sql<
          boolean
        >`d.number > (select max(x.number) from deployments x where x.app_id = d.app_id) - ${keep}`,
      ).execute();
      return [...new Set(rows.flatMap((r) => Object.values(JSON.parse(r.images) as object)))];
    },

    /** Every app's current deployment (the reconciler), in one query. */
    async currentDeployments(): Promise<Deployment[]> {
      const rows = await db.selectFrom("apps")
        .innerJoin("deployments", "deployments.id", "apps.current_deployment_id")
        .selectAll("deployments").execute();
      return rows.map(deploymentOf);
    },

    /** Deployments left pending or deploying (a hub that stopped mid-deploy). */
    async unfinished(): Promise<Deployment[]> {
      const rows = await db.selectFrom("deployments").selectAll().where("status", "in", ACTIVE)
        .execute();
      return rows.map(deploymentOf);
    },

    /** Adds a line to an app's timeline. */
    async event(
      app: Pick<App, "id" | "org_id">,
      kind: string,
      message: string,
      data: Record<string, unknown> = {},
    ): Promise<AppEvent> {
      const at = clock.now();
      const row = {
        id: uuidv7(at),
        app_id: app.id,
        org_id: app.org_id,
        at,
        kind,
        message,
        data: JSON.stringify(data),
      };
      await db.insertInto("app_events").values(row).execute();
      return { id: row.id, at, kind, message, data };
    },

    /** An app's timeline, newest first (`before` an event id). */
    async events(app: App, f: { before?: string; limit?: number } = {}): Promise<AppEvent[]> {
      if (f.before !== undefined && !/^[0-9a-f-]{36}$/.test(f.before)) {
        throw new Invalid("Invalid input: before", { before: "is not a cursor from a page" });
      }
      let q = db.selectFrom("app_events").selectAll().where("app_id", "=", app.id);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(Math.min(f.limit ?? 50, MAX_PAGE))
        .execute();
      return rows.map((r) => ({
        id: r.id,
        at: Number(r.at),
        kind: r.kind,
        message: r.message,
        data: JSON.parse(r.data),
      }));
    },
  };
}

export type AppStore = ReturnType<typeof createAppStore>;
