/**
 * The shape of a feature module (DESIGN §7). A feature is one folder under lib/ whose `module.ts`
 * exports one definition: the services it builds (from the core and the services of modules listed
 * before it, named in `deps`), its scheduled jobs, realtime topics, migrations, navigation
 * entries, settings panels and shutdown steps. `modules.ts` (next to main.ts) lists the modules in
 * order; the composition root, the scheduler, realtime access, the navigation, the settings frame
 * and shutdown iterate over that list. A feature's HTTP routes live in routes/ (paths match URLs)
 * and are registered by the route indexes under the feature's name.
 */
import type { ComponentChildren } from "preact";
import type { Migration } from "kysely/migration";
import type { Config } from "./config.ts";
import type { Db, DbHandle } from "./db/mod.ts";
import type { Clock } from "./util/clock.ts";
import type { Logger } from "./log.ts";
import type { Bus } from "./realtime/bus.ts";
import type { EventBus } from "./events.ts";
import type { RealtimePublisher } from "./realtime/publisher.ts";
import type { Job } from "./jobs/scheduler.ts";
import type { OrgRole } from "./db/schema.ts";
import type { SecretBox } from "./crypto/secrets.ts";
import type { Database } from "./db/schema.ts";

/** What every module may use: configuration, storage, time, logs, the buses and the hub's key ring. */
export interface Core {
  config: Config;
  dbh: DbHandle;
  db: Db;
  clock: Clock;
  log: Logger;
  /** Crosses hub replicas (PostgreSQL LISTEN/NOTIFY) or stays in process (SQLite). */
  bus: Bus;
  /** In-process domain events between modules (lib/events.ts). */
  events: EventBus;
  /** The one publisher of realtime topics (lib/realtime/topics.ts). */
  realtime: RealtimePublisher;
  /**
   * Encrypts and decrypts under the hub's key ring (lib/secret_key.ts, lib/crypto/secrets.ts): one
   * box per process, so a rotated key file reaches every user of it at once.
   */
  secretBox(): Promise<SecretBox>;
}

/** The groups of the side navigation, in the order they are drawn. */
export const NAV_GROUPS = [
  "Fleet",
  "Apps",
  "Docker",
  "Monitoring",
  "Organization",
  "Admin",
] as const;
export type NavGroup = (typeof NAV_GROUPS)[number];

/** One entry of the side navigation. */
export interface NavEntry {
  /** Pages name their entry with this key to mark it current. */
  key: string;
  group: NavGroup;
  label: string;
  /** Under the organization (`/o/<slug>` + path), or absolute for platform pages. */
  scope: "org" | "platform";
  path: string;
  /** The least organization role that sees it (org scope); platform entries are for platform admins. */
  minRole?: OrgRole;
  /** Position within its group (smaller first, default 0); entries of equal order keep module order. */
  order?: number;
}

/** What a settings panel gets to render itself. */
export interface PanelContext {
  org: { id: string; slug: string; name: string; role: OrgRole };
  user: { id: string; isAdmin: boolean };
  /** Every module's services (typed by modules.ts; panels cast to what they use). */
  services: Record<string, unknown>;
}

/** A tab of the Settings page: a panel rendered in the settings frame, or a page of its own. */
export interface SettingsPanel {
  /** URL segment: `/o/<org>/settings/<id>`. */
  id: string;
  title: string;
  /** Org admins by default; "platform" for platform admins only. */
  access?: { minRole: OrgRole } | "platform";
  order?: number;
  /** Read-only panels render here; a panel with forms is a page of its own at the same URL. */
  render?(ctx: PanelContext): ComponentChildren | Promise<ComponentChildren>;
}

type ColumnOf<T extends keyof Database> = keyof Database[T] & string;

/**
 * A column a module keeps encrypted at rest under the hub's key ring, one blob per row. The hub
 * refuses to start when a blob's key is not in the ring (lib/encrypted_columns.ts), and
 * `deno task admin rotate-secret-key` re-wraps every blob's data key under the current key.
 */
export interface EncryptedColumn<
  T extends keyof Database = keyof Database,
  K extends ColumnOf<T> = ColumnOf<T>,
> {
  table: T;
  /** The columns naming one row (its primary key). */
  key: readonly K[];
  /** The column holding the blob (lib/crypto/secrets.ts). */
  blob: ColumnOf<T>;
  /** A column kept equal to the blob's key id: read instead of every blob, and updated with it. */
  keyId?: ColumnOf<T>;
  /** The context the blob was encrypted for, from the row's key columns. */
  context(row: Pick<Database[T], K>): string;
}

/** An encrypted column of any table, as the hub's checks and the rotation take it. */
export interface AnyEncryptedColumn {
  table: string;
  key: readonly string[];
  blob: string;
  keyId?: string;
  context(row: Record<string, unknown>): string;
}

/** Declares an encrypted column; its table's column names are checked. */
export function encryptedColumn<T extends keyof Database, K extends ColumnOf<T>>(
  c: EncryptedColumn<T, K>,
): AnyEncryptedColumn {
  return c as unknown as AnyEncryptedColumn;
}

/**
 * A feature module. `S` is what it adds to the services; `D` the services of earlier modules it
 * uses (checked at start: a dependency that is not built yet is a start-up error).
 */
export interface FeatureModule<S extends object = object, D extends object = object> {
  name: string;
  /** Names of the services (of earlier modules) `services` uses. */
  deps?: readonly (keyof D & string)[];
  services?(core: Core, deps: D): S;
  /** Scheduled jobs; each name is also its lease, so a tick runs once across replicas. */
  jobs?(services: S, core: Core): Job[];
  /** Realtime topics `org:<id>:<name>` and the least role that may read each. */
  topics?: Record<string, OrgRole>;
  /** Migrations, by their globally ordered names (`0013_apps`). */
  migrations?: Record<string, Migration>;
  /** Columns it keeps encrypted at rest (see `encryptedColumn`). */
  encrypted?: readonly AnyEncryptedColumn[];
  nav?: NavEntry[];
  settings?: SettingsPanel[];
  /** Work started once every service is built, before the HTTP server listens (the embedded agent); returns its stop step. */
  start?(
    services: S,
    core: Core,
    all: Record<string, unknown>,
  ): (() => Promise<void> | void) | void;
  /** Shutdown, before the HTTP server closes (connections, streams), in reverse module order. */
  stop?(services: S): Promise<void> | void;
  /** Shutdown, after the HTTP server has closed (flush and close stores), in reverse module order. */
  close?(services: S): Promise<void> | void;
}

/** Any module, whatever it builds and uses (for the helpers that iterate over modules.ts). */
// deno-lint-ignore no-explicit-any
export type AnyModule = FeatureModule<any, any>;

/** Declares a module (an identity function that keeps its exact types for modules.ts). */
export function defineModule<S extends object = object, D extends object = object>(
  m: FeatureModule<S, D>,
): FeatureModule<S, D> {
  return m;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends
  ((x: infer I) => void) ? I : never;

/** The services every module of a list adds, as one object type. */
export type ServicesOf<M extends readonly AnyModule[]> = UnionToIntersection<
  { [K in keyof M]: M[K] extends FeatureModule<infer S, infer _D> ? S : never }[number]
>;

/**
 * Builds the services of `modules` in order. Each module sees the services built before it; a
 * dependency it names that is not there yet (a module listed too early) fails here, at start.
 */
export function buildServices(
  core: Core,
  modules: readonly AnyModule[],
): Record<string, unknown> {
  const built: Record<string, unknown> = {};
  for (const m of modules) {
    for (const d of m.deps ?? []) {
      if (!(d in built)) {
        throw new Error(
          `module ${m.name} needs ${d}, which no module listed before it provides (modules.ts)`,
        );
      }
    }
    if (m.services) Object.assign(built, m.services(core, built as never));
  }
  return built;
}

/** Every module's jobs; two with the same name (one lease) are a start-up error. */
export function collectJobs(
  core: Core,
  modules: readonly AnyModule[],
  services: Record<string, unknown>,
): Job[] {
  const jobs: Job[] = [];
  const names = new Set<string>();
  for (const m of modules) {
    for (const j of m.jobs?.(services as never, core) ?? []) {
      if (names.has(j.name)) throw new Error(`two jobs are named ${j.name} (module ${m.name})`);
      names.add(j.name);
      jobs.push(j);
    }
  }
  return jobs;
}

/** Every module's migrations in name order; a name used twice is a start-up error. */
export function collectMigrations(
  modules: readonly AnyModule[],
): Record<string, Migration> {
  const all: Record<string, Migration> = {};
  for (const m of modules) {
    for (const [name, mig] of Object.entries(m.migrations ?? {})) {
      if (name in all) throw new Error(`migration ${name} is declared twice (module ${m.name})`);
      all[name] = mig;
    }
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every module's encrypted columns; a table and column declared twice is a start-up error. */
export function collectEncrypted(modules: readonly AnyModule[]): AnyEncryptedColumn[] {
  const out: AnyEncryptedColumn[] = [];
  const seen = new Set<string>();
  for (const m of modules) {
    for (const c of m.encrypted ?? []) {
      const name = `${c.table}.${c.blob}`;
      if (seen.has(name)) throw new Error(`${name} is declared encrypted twice (module ${m.name})`);
      seen.add(name);
      out.push(c);
    }
  }
  return out;
}

/** The least role per realtime topic name, from every module. */
export function collectTopics(
  modules: readonly AnyModule[],
): Record<string, OrgRole> {
  const out: Record<string, OrgRole> = {};
  for (const m of modules) Object.assign(out, m.topics ?? {});
  return out;
}
