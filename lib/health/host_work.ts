import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { HealthChange } from "./rows.ts";
import type { HealthEvent } from "../realtime/topics.ts";

/**
 * What the per-host work of the health service (results ingestion, label reconciliation) uses:
 * the database, the clock, and the two ways it tells the world (a live event, a state change).
 */
export interface HostWork {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Publishes on the organization's health topic (best effort). */
  announce(orgId: string, data: HealthEvent): void;
  /** A state change: announced live and handed to the alerts hook. */
  announceChange(c: HealthChange): void;
}
