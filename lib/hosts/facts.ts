/**
 * Read-only facts about live hosts and their cached containers that other modules key on (alert
 * rule scopes, the host-offline check, names in alerts), so they need not read this module's
 * tables. Numbers come back as numbers whatever the dialect.
 */
import type { Db } from "../db/mod.ts";

/** A live host's identity, labels and agent times. */
export interface HostFacts {
  id: string;
  org_id: string;
  name: string;
  labels: Record<string, string>;
  enrolled_at: number | null;
  last_seen_at: number | null;
}

const FACT_COLUMNS = ["id", "org_id", "name", "labels", "enrolled_at", "last_seen_at"] as const;

function facts(h: {
  id: string;
  org_id: string;
  name: string;
  labels: string;
  enrolled_at: number | null;
  last_seen_at: number | null;
}): HostFacts {
  return {
    ...h,
    labels: JSON.parse(h.labels),
    enrolled_at: h.enrolled_at === null ? null : Number(h.enrolled_at),
    last_seen_at: h.last_seen_at === null ? null : Number(h.last_seen_at),
  };
}

/** One live (not removed) host's facts, or undefined. */
export async function hostFacts(db: Db, hostId: string): Promise<HostFacts | undefined> {
  const h = await db.selectFrom("hosts").select(FACT_COLUMNS).where("id", "=", hostId)
    .where("removed_at", "is", null).executeTakeFirst();
  return h && facts(h);
}

/** The facts of every live host whose agent has enrolled, across organizations. */
export async function enrolledHostFacts(db: Db): Promise<HostFacts[]> {
  const rows = await db.selectFrom("hosts").select(FACT_COLUMNS).where("removed_at", "is", null)
    .where("enrolled_at", "is not", null).execute();
  return rows.map(facts);
}

/** A container's name as the host's container cache holds it (Docker's leading "/" kept). */
export async function cachedContainerName(
  db: Db,
  hostId: string,
  containerId: string,
): Promise<string | undefined> {
  const c = await db.selectFrom("containers").select("name").where("host_id", "=", hostId)
    .where("id", "=", containerId).executeTakeFirst();
  return c?.name;
}
