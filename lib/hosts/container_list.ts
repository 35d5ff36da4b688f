/**
 * Reads of the `containers` cache: every host's containers as agent snapshots and events last
 * reported them. Lists across hosts come from here, never from the agents, so a page of 1,000
 * hosts costs one query and offline hosts still show what they last ran.
 */
import { type Expression, sql, type SqlBool } from "kysely";
import type { Db, Dialect } from "../db/mod.ts";
import { containsText } from "../db/text_search.ts";
import { agedStatus } from "./container_status.ts";
import { findCachedContainer } from "./container_ref.ts";
import { Invalid } from "../errors.ts";

/** Container states Docker reports. */
export const CONTAINER_STATES = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
] as const;
/** One of Docker's container states. */
export type ContainerStateName = (typeof CONTAINER_STATES)[number];

/** Label keys the filter accepts (the same rule as labels set through Capstan). */
export const LABEL_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}$/;

/** Filters and page of a cross-host container list. */
export interface ContainerFilters {
  hostId?: string;
  state?: ContainerStateName;
  /** Case-insensitive substring of the name or the image. */
  q?: string;
  /** `key` (present) or `key=value` (equal). */
  label?: { key: string; value?: string };
  limit: number;
  offset: number;
}

/** A cached container with its host's name. */
export interface CachedContainer {
  host_id: string;
  host_name: string;
  id: string;
  name: string;
  image: string;
  image_id: string;
  command: string;
  state: string;
  status: string;
  /** Milliseconds since the epoch. */
  created: number;
  labels: Record<string, string>;
  ports: { private_port: number; public_port?: number; type: string; ip?: string }[];
  updated_at: number;
}

/** Parses the label filter `key` or `key=value`; undefined when the key breaks the rule. */
export function parseLabelFilter(raw: string): { key: string; value?: string } | undefined {
  const eq = raw.indexOf("=");
  const key = eq < 0 ? raw : raw.slice(0, eq);
  if (!LABEL_KEY_RE.test(key)) return undefined;
  return eq < 0 ? { key } : { key, value: raw.slice(eq + 1) };
}

/**
 * The string value of a label in the JSON `labels` column, the same on both dialects. The key is
 * bound as a parameter; it is also restricted to LABEL_KEY_RE, which keeps quotes out of the
 * SQLite JSON path.
 */
function labelValue(dialect: Dialect, key: string): Expression<string | null> {
  if (!LABEL_KEY_RE.test(key)) throw new Error(`label key ${JSON.stringify(key)} is not allowed`);
  return dialect === "postgres"
    ? sql<string | null>`(${sql.ref("containers.labels")}::jsonb ->> ${key})`
    : sql<string | null>`json_extract(${sql.ref("containers.labels")}, ${`$."${key}"`})`;
}

function row(r: {
  host_id: string;
  host_name: string;
  id: string;
  name: string;
  image: string;
  image_id: string;
  command: string;
  state: string;
  status: string;
  created: number;
  labels: string;
  ports: string;
  updated_at: number;
}, now: number): CachedContainer {
  return {
    ...r,
    // Docker's text was true when the row was written; it reads as of now.
    status: agedStatus(r.status, Number(r.updated_at), now),
    created: Number(r.created) * 1000,
    updated_at: Number(r.updated_at),
    labels: JSON.parse(r.labels),
    ports: JSON.parse(r.ports),
  };
}

/**
 * One page of an organization's containers across its live hosts, by host name then name, their
 * status texts as of `now`.
 */
export async function listCachedContainers(
  db: Db,
  dialect: Dialect,
  orgId: string,
  f: ContainerFilters,
  now = Date.now(),
): Promise<{ items: CachedContainer[]; total: number }> {
  let base = db.selectFrom("containers")
    .innerJoin("hosts", "hosts.id", "containers.host_id")
    .where("containers.org_id", "=", orgId)
    .where("hosts.removed_at", "is", null);
  if (f.hostId) base = base.where("containers.host_id", "=", f.hostId);
  if (f.state) base = base.where("containers.state", "=", f.state);
  if (f.q) {
    const q = f.q;
    base = base.where((eb) =>
      eb.or([containsText("containers.name", q), containsText("containers.image", q)])
    );
  }
  if (f.label) {
    const v = labelValue(dialect, f.label.key);
    const value = f.label.value;
    base = base.where(
      value === undefined ? sql<SqlBool>`${v} is not null` : sql<SqlBool>`${v} = ${value}`,
    );
  }
  const total = await base.select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const rows = await base.select([
    "containers.host_id",
    "hosts.name as host_name",
    "containers.id",
    "containers.name",
    "containers.image",
    "containers.image_id",
    "containers.command",
    "containers.state",
    "containers.status",
    "containers.created",
    "containers.labels",
    "containers.ports",
    "containers.updated_at",
  ]).orderBy("hosts.name").orderBy("containers.host_id").orderBy("containers.name")
    .orderBy("containers.id").limit(f.limit).offset(f.offset).execute();
  return { items: rows.map((r) => row(r, now)), total: Number(total.n) };
}

/** How many cached containers of a host use each image id. */
export async function imageUsage(
  db: Db,
  orgId: string,
  hostId: string,
): Promise<Map<string, number>> {
  const rows = await db.selectFrom("containers")
    .select((eb) => ["image_id", eb.fn.countAll<number>().as("n")])
    .where("org_id", "=", orgId).where("host_id", "=", hostId).groupBy("image_id").execute();
  return new Map(rows.map((r) => [r.image_id, Number(r.n)]));
}

/** Names of a host's cached containers using an image id (for a clear "in use by" message). */
export async function containersUsingImage(
  db: Db,
  orgId: string,
  hostId: string,
  imageId: string,
  limit = 5,
): Promise<string[]> {
  const rows = await db.selectFrom("containers").select("name").where("org_id", "=", orgId)
    .where("host_id", "=", hostId).where("image_id", "=", imageId).orderBy("name").limit(limit)
    .execute();
  return rows.map((r) => r.name);
}

/**
 * Waits until the cached container satisfies `done` (the event of an action arrives separately
 * from the action's answer), so a page rendered next shows the new state. Gives up quietly after
 * `ms`: the live island or the next refresh will catch up.
 */
export async function waitForCache(
  db: Db,
  orgId: string,
  hostId: string,
  ref: string,
  done: (c: { id: string; state: string; updated_at: number } | undefined) => boolean,
  ms = 2000,
): Promise<void> {
  const until = Date.now() + ms;
  // An ambiguous short id resolves to nothing here: the wait is a courtesy, never an error.
  const find = () =>
    findCachedContainer(db, orgId, hostId, ref).catch((err) => {
      if (err instanceof Invalid) return undefined;
      throw err;
    });
  while (!done(await find()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
