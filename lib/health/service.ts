/**
 * Health checks on the hub: the reads the API and pages use (reads.ts), CRUD (writes.ts, audited),
 * and the per-host work run serially per host — results ingestion (ingest.ts) and label checks
 * following containers (reconcile.ts). State changes go to the alerts hook; every stored batch is
 * announced on `org:<id>:health`.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { AuditLog } from "../audit/service.ts";
import type { HealthResult } from "../protocol/health.ts";
import type { HealthChange } from "./rows.ts";
import { ingestResults } from "./ingest.ts";
import { reconcileHost } from "./reconcile.ts";
import type { HostWork } from "./host_work.ts";
import type { RightsDeps } from "./rights.ts";
import { createHealthReads } from "./reads.ts";
import { createHealthWrites } from "./writes.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { type HealthEvent, topics } from "../realtime/topics.ts";

export { MAX_HISTORY, MAX_LIST, SERIES_RANGES, type SeriesRange, type Uptime } from "./reads.ts";

/** What the health service needs. */
export interface HealthDeps extends Omit<RightsDeps, "db"> {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  /** Publishes on the organization's health topic (best effort). */
  realtime: RealtimePublisher;
  /** Asks for the host's agent to get the host's current set of checks. */
  requestSync(hostId: string): void;
  /** Called for every state change, after it is stored (alerts). */
  onChange?(change: HealthChange): void;
}

/** Creates the health service; see the module comment. */
export function createHealthService(deps: HealthDeps) {
  const { db, clock, log, audit } = deps;
  // Ingestion and reconciliation are serial per host, so a batch's state reads see the last write.
  const chains = new Map<string, Promise<void>>();
  const serial = (hostId: string, fn: () => Promise<void>): Promise<void> => {
    const next = (chains.get(hostId) ?? Promise.resolve()).then(fn).catch((e) =>
      log.error("health: update failed", { hostId, error: String(e) })
    );
    chains.set(hostId, next);
    next.finally(() => chains.get(hostId) === next && chains.delete(hostId));
    return next;
  };
  const announce = (orgId: string, data: HealthEvent) =>
    void deps.realtime.publish(topics.health(orgId), data);
  const changed = (c: HealthChange) => {
    try {
      deps.onChange?.(c);
    } catch (e) {
      log.error("health: change hook failed", { error: String(e) });
    }
  };

  function announceChange(c: HealthChange) {
    announce(c.org_id, { kind: "state", check_id: c.check_id, host_id: c.host_id, state: c.to });
    changed(c);
  }
  const work: HostWork = { db, clock, log, announce, announceChange };
  const rights: RightsDeps = {
    db,
    allowPrivateTargets: deps.allowPrivateTargets,
    containerAddresses: deps.containerAddresses,
  };

  return {
    ...createHealthReads({ db, clock, rights }),
    ...createHealthWrites({
      db,
      clock,
      audit,
      rights,
      announce,
      announceChange,
      requestSync: (hostId) => deps.requestSync(hostId),
    }),

    /**
     * The checks the host's agent should run (enabled ones whose container is there), as the
     * wire contract has them.
     */
    async specsFor(hostId: string) {
      const rows = await db.selectFrom("health_checks").selectAll().where("host_id", "=", hostId)
        .where("enabled", "=", 1).where("container_gone_at", "is", null).orderBy("id").execute();
      return rows.map((r) => {
        const config = JSON.parse(r.config);
        return {
          id: r.id,
          container_id: r.container_id,
          kind: r.kind,
          interval_s: Number(r.interval_s),
          timeout_s: Number(r.timeout_s),
          start_delay_s: Number(r.start_delay_s),
          ...(r.kind === "http" ? { http: config } : {}),
          ...(r.kind === "tcp" ? { tcp: config } : {}),
          ...(r.kind === "command" ? { command: config } : {}),
        };
      });
    },

    /** Stores a host's results and moves each check's state (serial per host). */
    ingest(host: { id: string; org_id: string }, results: HealthResult[]): Promise<void> {
      return serial(host.id, () => ingestResults(work, host, results));
    },

    /**
     * The host's container cache changed: label checks follow their containers, manual checks
     * follow a container recreated under the same name, and a (re)started container restarts the
     * start delay of its checks. Syncs the agent when the set changed.
     */
    containersChanged(
      host: { id: string; org_id: string },
      e?: { action: string; id: string; time_nano?: number },
    ): Promise<void> {
      return serial(host.id, async () => {
        if (e?.action === "start") {
          const at = e.time_nano ? Math.floor(e.time_nano / 1e6) : clock.now();
          await db.updateTable("health_checks").set({ started_at: at }).where(
            "host_id",
            "=",
            host.id,
          )
            .where("container_id", "=", e.id).execute();
          return;
        }
        // A snapshot is the whole truth; an event only says what happened to its container.
        const removed = !e ? "any" : new Set(e.action === "destroy" ? [e.id] : []);
        if (await reconcileHost(work, host, removed)) deps.requestSync(host.id);
      });
    },

    /** Resolves when queued per-host work is done (tests, shutdown). */
    async idle(): Promise<void> {
      while (chains.size) await Promise.all([...chains.values()]);
    },
  };
}

export type HealthService = ReturnType<typeof createHealthService>;
