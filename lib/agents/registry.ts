import type { Hosts } from "../hosts/service.ts";
import type { Bus } from "../realtime/bus.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { topics } from "../realtime/topics.ts";
import type { Logger } from "../log.ts";
import { HttpError } from "../http/errors.ts";
import { AgentConnection } from "./connection.ts";
import type { Transport } from "../protocol/transport.ts";
import { CLOSE, type Hello } from "../protocol/messages.ts";
import type { ContainerEvent } from "../alerts/event_rules.ts";
import type { HealthResult } from "../protocol/health.ts";

/** How often the hub pings each agent, and after how long without a pong it gives up on one. */
const PING_EVERY_MS = 15_000;
const DEAD_AFTER_MS = 45_000;
/** Bus topic on which replicas ask each other to drop an agent connection. */
const CONTROL_TOPIC = "hub:agents";

/**
 * The agents connected to this hub process. Each host has at most one live connection: a newer one
 * replaces an older (an agent that reconnected before the old socket timed out).
 */
export function createAgentRegistry(deps: {
  hosts: Hosts;
  /** Carries disconnect requests between replicas. */
  bus: Bus;
  /** Publishes container and host status changes to the organization. */
  realtime: RealtimePublisher;
  log: Logger;
  /** Alerts hooks (lib/alerts/service.ts): container events for event rules, a host coming back. */
  observer?: {
    event(host: { id: string; org_id: string }, e: ContainerEvent): void;
    online(host: { id: string; org_id: string }): void;
  };
  /** Health hooks (lib/health/mod.ts): agent connected, container cache changed, check results. */
  health?: {
    online(host: { id: string; org_id: string }): void;
    containers(host: { id: string; org_id: string }, e?: ContainerEvent): void;
    results(host: { id: string; org_id: string }, results: HealthResult[]): void;
  };
}) {
  const live = new Map<string, AgentConnection>();
  // The pinger runs only while agents are connected, so an idle registry holds no timer.
  let pinger: ReturnType<typeof setInterval> | undefined;
  const syncPinger = () => {
    if (live.size && !pinger) {
      pinger = setInterval(() => {
        for (const [hostId, c] of live) {
          if (Date.now() - c.lastPongAt > DEAD_AFTER_MS) {
            deps.log.warn("agent stopped answering pings; closing", { hostId });
            c.close(CLOSE.PING_TIMEOUT, "ping timeout");
          } else c.ping();
        }
      }, PING_EVERY_MS);
    } else if (!live.size && pinger) {
      clearInterval(pinger);
      pinger = undefined;
    }
  };

  // Disconnects asked for by any replica; the topic is outside org:/user:, so no browser can join it.
  const unsubscribe = deps.bus.subscribe((topic, data) => {
    if (topic !== CONTROL_TOPIC) return;
    const d = data as { disconnect?: unknown; code?: unknown; reason?: unknown };
    if (typeof d.disconnect !== "string" || typeof d.code !== "number") return;
    live.get(d.disconnect)?.close(d.code, typeof d.reason === "string" ? d.reason : "");
  });

  const { realtime } = deps;

  return {
    /**
     * Takes over an agent connection for a known host once its hello arrived: records facts, keeps
     * the container cache in step with snapshots and events, and publishes changes to the org.
     */
    async attach(
      host: { id: string; org_id: string },
      transport: Transport,
      hello?: Hello,
    ): Promise<AgentConnection> {
      const conn = new AgentConnection(transport);
      return await this.adopt(host, conn, hello);
    },

    /** Like attach, for a connection whose hello was already read (the WebSocket route checks it first). */
    async adopt(
      host: { id: string; org_id: string },
      conn: AgentConnection,
      hello?: Hello,
    ): Promise<AgentConnection> {
      // Updates are applied one at a time per host so a snapshot and the events after it stay ordered.
      let chain = Promise.resolve();
      const serial = (fn: () => Promise<void>) => {
        chain = chain.then(fn).catch((e) =>
          deps.log.error("agent update failed", { hostId: host.id, error: String(e) })
        );
      };
      conn.setHandlers({
        onSnapshot: (m) =>
          serial(async () => {
            await deps.hosts.applySnapshot(host, m.containers);
            deps.health?.containers(host);
            await realtime.publish(topics.containers(host.org_id), {
              host_id: host.id,
              kind: "snapshot",
            });
          }),
        onEvent: (e) =>
          serial(async () => {
            if (e.type !== "container") return;
            const gone = e.action === "destroy";
            deps.observer?.event(host, e);
            await deps.hosts.applyContainer(host, e.id, gone ? undefined : e.container);
            deps.health?.containers(host, e);
            await realtime.publish(topics.containers(host.org_id), {
              host_id: host.id,
              kind: "event",
              id: e.id,
              action: e.action,
              state: e.container?.state ?? (gone ? "removed" : undefined),
            });
          }),
        onHealth: (results) => deps.health?.results(host, results),
        onClose: () => {
          if (live.get(host.id) === conn) {
            live.delete(host.id);
            syncPinger();
            serial(async () => {
              await deps.hosts.touch(host.id);
              await realtime.publish(topics.hosts(host.org_id), {
                host_id: host.id,
                online: false,
              });
            });
          }
        },
      });
      const h = hello ?? await conn.hello;
      await deps.hosts.recordHello(host.id, h);
      const previous = live.get(host.id);
      live.set(host.id, conn);
      syncPinger();
      previous?.close(CLOSE.REPLACED, "replaced by a newer connection");
      await realtime.publish(topics.hosts(host.org_id), { host_id: host.id, online: true });
      deps.observer?.online(host);
      deps.health?.online(host);
      return conn;
    },

    /** The live connection of a host, or 503 when its agent is not connected. */
    require(hostId: string): AgentConnection {
      const c = live.get(hostId);
      if (!c || c.closed) {
        throw new HttpError(503, "host_offline", "The host's agent is not connected");
      }
      return c;
    },

    isOnline(hostId: string): boolean {
      const c = live.get(hostId);
      return Boolean(c && !c.closed);
    },

    /**
     * Closes a host's connection (removal, token rotation) here and, through the bus, on every
     * other replica, so a removed host's token stops working at once wherever its agent is.
     */
    disconnect(
      hostId: string,
      code: number = CLOSE.DISCONNECTED,
      reason = "disconnected by the hub",
    ): void {
      live.get(hostId)?.close(code, reason);
      deps.bus.publish(CONTROL_TOPIC, { disconnect: hostId, code, reason }).catch((e) =>
        deps.log.warn("publish failed", { error: String(e) })
      );
    },

    /**
     * Hands a rotated host token to the host's live agent, which stores it, and then closes the
     * connection so the agent reconnects with it. Resolves false when no agent took it (offline,
     * or it did not confirm in time); the old token is dead either way, so the connection is closed.
     */
    async deliverToken(hostId: string, token: string, timeoutMs = 10_000): Promise<boolean> {
      const c = live.get(hostId);
      if (!c || c.closed) return false;
      const ok = await c.rotate(token, timeoutMs).catch(() => false);
      c.close(
        ok ? CLOSE.TOKEN_ROTATED : CLOSE.DISCONNECTED,
        ok ? "token rotated" : "token rotated; the agent did not confirm",
      );
      return ok;
    },

    size: () => live.size,

    close(): void {
      unsubscribe();
      for (const c of live.values()) c.close(1001, "hub shutting down");
      live.clear();
      syncPinger();
    },
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
