/**
 * Hands each host's agent its complete set of checks (`health.sync`): when the agent connects and
 * after any change. A change on one replica reaches the replica holding the agent's connection
 * through the bus. Syncs of one host never overlap: a request during a sync runs one more after it,
 * with the set as it is then. A failure is logged and repaired by the next connect or change.
 */
import type { Bus } from "../realtime/bus.ts";
import type { Logger } from "../log.ts";
import type { HealthCheckSpec } from "../protocol/health.ts";

/** Bus topic on which replicas ask the one holding a host's agent to sync it. */
const CONTROL_TOPIC = "hub:health";
/** How long an agent may take to take a check set. */
const SYNC_TIMEOUT_MS = 30_000;

/** What sync needs: the desired set of a host, and the live agent connections of this process. */
export interface SyncDeps {
  bus: Bus;
  log: Logger;
  specsFor(hostId: string): Promise<HealthCheckSpec[]>;
  agents: {
    isOnline(hostId: string): boolean;
    require(hostId: string): {
      call<T>(
        op: "health.sync" | "container.inspect",
        params: unknown,
        timeoutMs?: number,
      ): Promise<T>;
    };
  };
}

/** Creates the syncer; see the module comment. */
export function createHealthSync(deps: SyncDeps) {
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();

  async function run(hostId: string) {
    do {
      again.delete(hostId);
      if (!deps.agents.isOnline(hostId)) return;
      try {
        const checks = await deps.specsFor(hostId);
        await deps.agents.require(hostId).call("health.sync", { checks }, SYNC_TIMEOUT_MS);
      } catch (e) {
        deps.log.warn("health: sync failed; retried on the next connect or change", {
          hostId,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    } while (again.has(hostId));
  }

  /** Syncs a host whose agent is connected here (no-op otherwise). */
  function local(hostId: string): void {
    if (!deps.agents.isOnline(hostId)) return;
    if (running.has(hostId)) {
      again.add(hostId);
      return;
    }
    const p = run(hostId).finally(() => running.delete(hostId));
    running.set(hostId, p);
  }

  const unsubscribe = deps.bus.subscribe((topic, data) => {
    if (topic !== CONTROL_TOPIC) return;
    const hostId = (data as { sync?: unknown }).sync;
    if (typeof hostId === "string") local(hostId);
  });

  return {
    /** The host's checks changed: sync it wherever its agent is connected. */
    request(hostId: string): void {
      // Every replica's subscriber (this one's too) syncs the host if its agent is connected there.
      deps.bus.publish(CONTROL_TOPIC, { sync: hostId }).catch((e) => {
        deps.log.warn("health: publish failed; syncing locally", { error: String(e) });
        local(hostId);
      });
    },

    /** The host's agent connected to this process. */
    connected(hostId: string): void {
      local(hostId);
    },

    /** Resolves when no sync is running (tests, shutdown). */
    async idle(): Promise<void> {
      while (running.size) await Promise.all([...running.values()]);
    },

    close(): void {
      unsubscribe();
    },
  };
}

export type HealthSyncer = ReturnType<typeof createHealthSync>;
