/**
 * What other modules may know of the metrics hosts have sent, without reading this module's
 * tables: when each host last reported, and which series an organization's hosts have sent.
 */
import type { Db } from "../db/mod.ts";

/** Hub time of each host's newest stored batch received after `since`. */
export async function lastReportTimes(db: Db, since: number): Promise<Map<string, number>> {
  const rows = await db.selectFrom("metric_batches").select((eb) => [
    "host_id",
    eb.fn.max("received_at").as("at"),
  ]).where("received_at", ">", since).groupBy("host_id").execute();
  return new Map(rows.map((r) => [r.host_id, Number(r.at)]));
}

/** A series key an organization's hosts have sent, and whether it is a container's. */
export interface SeenSeries {
  key: string;
  container: boolean;
}

/** Distinct series keys (at most `limit`) the organization's hosts, removed ones too, have sent. */
export async function seriesSeen(db: Db, orgId: string, limit: number): Promise<SeenSeries[]> {
  const rows = await db.selectFrom("metric_series")
    .innerJoin("hosts", "hosts.id", "metric_series.host_id")
    .where("hosts.org_id", "=", orgId)
    .select((eb) => [
      "metric_series.key as key",
      eb.case().when("metric_series.container_id", "=", "").then(0).else(1).end().as("ctr"),
    ])
    .distinct().limit(limit).execute();
  return rows.map((r) => ({ key: r.key, container: Number(r.ctr) !== 0 }));
}
