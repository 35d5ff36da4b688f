/**
 * Health checks, wired: the service, the agent sync, the agent registry's hooks (connect, container
 * cache changes, results) and the hourly retention job.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Bus } from "../realtime/bus.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import type { Logger } from "../log.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Job } from "../jobs/scheduler.ts";
import { createHealthService } from "./service.ts";
import type { HealthChange } from "./rows.ts";
import type { EventBus } from "../events.ts";
import type {} from "../agents/events.ts";

declare module "../events.ts" {
  interface DomainEvents {
    /** A check's state changed and is stored (alerts fire on unhealthy, resolve on the rest). */
    "health.changed": HealthChange;
  }
}
import { createHealthSync, type SyncDeps } from "./sync.ts";
import { purgeHealthResults } from "./retention.ts";
import { containerAddresses } from "../docker/addresses.ts";
import type { ContainerInspect } from "../docker/types.ts";

/** How long a check's write waits for the container's addresses from its agent. */
const INSPECT_TIMEOUT_MS = 5_000;

/** Container events that can add or remove a label check, or rebind a manual one. */
const CACHE_ACTIONS = new Set(["create", "destroy", "rename", "start"]);

/** Creates the health module; see the module comment. */
export function createHealth(deps: {
  db: Db;
  clock: Clock;
  bus: Bus;
  realtime: RealtimePublisher;
  log: Logger;
  audit: AuditLog;
  agents: SyncDeps["agents"];
  /** Days results are kept (CAPSTAN_HEALTH_RETENTION_DAYS). */
  retentionDays: number;
  /** CAPSTAN_ALLOW_PRIVATE_TARGETS: checks of anyone may target loopback and private addresses. */
  allowPrivateTargets: boolean;
  /** Agent events arrive here; `health.changed` goes out after each stored state change. */
  events: EventBus;
}) {
  const { db, clock, bus, log } = deps;
  // deno-lint-ignore prefer-const
  let sync: ReturnType<typeof createHealthSync>;
  const service = createHealthService({
    db,
    clock,
    log,
    audit: deps.audit,
    realtime: deps.realtime,
    requestSync: (hostId) => sync.request(hostId),
    onChange: (change) => deps.events.emit("health.changed", change),
    allowPrivateTargets: deps.allowPrivateTargets,
    // A member may name the container's own address as a check's host; only its engine knows it.
    containerAddresses: async (hostId, containerId) => {
      if (!deps.agents.isOnline(hostId)) return [];
      const i = await deps.agents.require(hostId).call<ContainerInspect>(
        "container.inspect",
        { id: containerId },
        INSPECT_TIMEOUT_MS,
      );
      return containerAddresses(i);
    },
  });
  sync = createHealthSync({ bus, log, agents: deps.agents, specsFor: service.specsFor });

  // What agents report: a connected agent gets its checks, cache changes add or rebind label and
  // manual checks, results are ingested.
  deps.events.on("agent.connected", ({ host }) => sync.connected(host.id));
  deps.events.on("agent.containers_changed", ({ host, event }) => {
    if (event && !CACHE_ACTIONS.has(event.action)) return;
    void service.containersChanged(host, event);
  });
  deps.events.on("agent.health_results", ({ host, results }) => void service.ingest(host, results));

  return {
    service,
    sync,

    /** The hourly retention job (lease-protected). */
    jobs(): Job[] {
      return [{
        name: "health_retention",
        schedule: "41 * * * *",
        intervalMs: 3600_000,
        run: () => purgeHealthResults(db, clock.now(), deps.retentionDays),
      }];
    },

    /** Resolves when queued ingestion and syncs are done (tests, shutdown). */
    async idle(): Promise<void> {
      await service.idle();
      await sync.idle();
    },

    close(): void {
      sync.close();
    },
  };
}

export type Health = ReturnType<typeof createHealth>;
