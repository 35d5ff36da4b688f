import type { Db } from "../../lib/db/mod.ts";
import type { AlertsTable } from "../../lib/db/schema.ts";
import { uuidv7 } from "../../lib/util/ids.ts";

/**
 * Writes an alert row as the engine would leave it (firing, on a host, unacknowledged), with
 * `fields` on top: for pages that show alerts, without driving the engine through a hold time.
 */
export async function insertAlert(
  db: Db,
  org: { id: string },
  host: { id: string; name: string },
  fields: Partial<AlertsTable> = {},
): Promise<AlertsTable> {
  const startedAt = fields.started_at ?? Date.now() - 600_000;
  const row: AlertsTable = {
    id: uuidv7(startedAt),
    org_id: org.id,
    rule_id: null,
    rule_name: "CPU above 90%",
    subject: `host:${host.id}:${crypto.randomUUID()}`,
    host_id: host.id,
    host_name: host.name,
    container_id: null,
    container_name: null,
    severity: "warning",
    title: `CPU above 90% on ${host.name}`,
    value: 97,
    state: "firing",
    started_at: startedAt,
    ended_at: null,
    acknowledged_by: null,
    acknowledged_at: null,
    silenced_until: null,
    muted: 0,
    ...fields,
  };
  await db.insertInto("alerts").values(row).execute();
  return row;
}
