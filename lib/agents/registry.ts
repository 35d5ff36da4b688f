import type { Hosts } from "../hosts/service.ts";
import type { Bus } from "../realtime/bus.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { topics } from "../realtime/topics.ts";
import type { Logger } from "../log.ts";
import { HttpError } from "../http/errors.ts";
import { AgentConnection } from "./connection.ts";
import type { Transport } from "../protocol/transport.ts";
import { CLOSE, ContainerState, type Hello } from "../protocol/messages.ts";
import type { EventBus } from "../events.ts";
import type {} from "./events.ts";
import { createUpdateQueue, type UpdateQueue } from "./update_queue.ts";
import { z } from "zod";

/**
 * Heartbeats as CAPSTAN_WORKER_HEARTBEAT_INTERVAL and _TIMEOUT set them by default: how often the
 * hub pings each agent, and after how long without a pong it is unhealthy and its connection is
 * closed (a half-open socket; the agent dials again). The agent answers each ping as it comes, so
 * the cadence is the hub's alone: no protocol change.
 */
const DEFAULT_HEARTBEAT = { intervalMs: 30_000, timeoutMs: 120_000 };
/** Bus topic on which replicas ask each other to drop an agent connection. */
const CONTROL_TOPIC = "hub:agents";
/** How long a resync may wait for the agent's container list. */
const RESYNC_LIST_MS = 30_000;
const MAX_CONTAINERS = 10_000;
const ContainerList = z.array(ContainerState).max(MAX_CONTAINERS);
/** A snapshot rewrites one row per container: give a large one more than the queue's 5 s. */
const snapshotTimeoutMs = (containers: number) => 5000 + containers;

type HostRef = { id: string; org_id: string };

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
  /** Where the registry tells what happened (lib/agents/events.ts); alerts and health listen. */
  events: EventBus;
  /** Database calls of the update queue that take longer are retried (default 5 s). */
  updateTimeoutMs?: number;
  /** Ping cadence and silence allowed (config.workerHeartbeat). */
  heartbeat?: { intervalMs: number; timeoutMs: number };
}) {
  const heartbeat = deps.heartbeat ?? DEFAULT_HEARTBEAT;
  const live = new Map<string, AgentConnection>();
  // One update queue per host, shared by its successive connections, so a new connection's
  // snapshot is applied after whatever the previous one left queued, never beside it.
  const queues = new Map<string, UpdateQueue>();
  // The pinger runs only while agents are connected, so an idle registry holds no timer.
  let pinger: ReturnType<typeof setInterval> | undefined;
  const syncPinger = () => {
    if (live.size && !pinger) {
      pinger = setInterval(() => {
        for (const [hostId, c] of live) {
          if (Date.now() - c.lastPongAt > heartbeat.timeoutMs) {
            deps.log.warn("agent stopped answering pings; closing", { hostId });
            c.close(CLOSE.PING_TIMEOUT, "ping timeout");
          } else c.ping();
        }
      }, heartbeat.intervalMs);
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

  // Not awaited by the update queue: a bus waiting on an unreachable database must not hold
  // up the cache (events are hints to refresh; the pages read the cache).
  const { realtime } = deps;

  const applySnapshot = async (host: HostRef, containers: ContainerState[]) => {
    await deps.hosts.applySnapshot(host, containers);
    deps.events.emit("agent.containers_changed", { host });
    void realtime.publish(topics.containers(host.org_id), { host_id: host.id, kind: "snapshot" });
  };

  /** Queues a fresh snapshot asked from the host's live agent (none live: its next hello sends one). */
  const resync = (host: HostRef) => {
    if (!live.get(host.id) || live.get(host.id)!.closed) return;
    queueFor(host).push({
      what: "resync",
      resync: true,
      whole: true,
      timeoutMs: RESYNC_LIST_MS + snapshotTimeoutMs(MAX_CONTAINERS),
      run: async () => {
        const c = live.get(host.id);
        if (!c || c.closed) return;
        const list = ContainerList.parse(
          await c.call("containers.list", { all: true }, RESYNC_LIST_MS),
        );
        await applySnapshot(host, list);
      },
    });
  };

  const queueFor = (host: HostRef): UpdateQueue => {
    let q = queues.get(host.id);
    if (!q) {
      q = createUpdateQueue({
        hostId: host.id,
        log: deps.log,
        timeoutMs: deps.updateTimeoutMs,
        onDrift: () => resync(host),
      });
      queues.set(host.id, q);
    }
    return q;
  };

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
      const queue = queueFor(host);
      conn.setHandlers({
        onSnapshot: (m) =>
          queue.push({
            what: "snapshot",
            whole: true,
            timeoutMs: snapshotTimeoutMs(m.containers.length),
            run: () => applySnapshot(host, m.containers),
          }),
        onEvent: (e) => {
          if (e.type !== "container") return;
          deps.events.emit("agent.container_event", { host, event: e });
          const gone = e.action === "destroy";
          // Only destroy removes a container. Other events carry its new state; one without a
          // state (exec_create/exec_start/exec_die, or a container already gone when the agent
          // looked, whose destroy follows) changes nothing the hub keeps.
          if (!gone && !e.container) return;
          queue.push({
            what: `event ${e.action}`,
            run: async () => {
              await deps.hosts.applyContainer(host, e.id, gone ? undefined : e.container);
              deps.events.emit("agent.containers_changed", { host, event: e });
              void realtime.publish(topics.containers(host.org_id), {
                host_id: host.id,
                kind: "event",
                id: e.id,
                action: e.action,
                state: gone ? "removed" : e.container?.state,
              });
            },
          });
        },
        onHealth: (results) => deps.events.emit("agent.health_results", { host, results }),
        // The heartbeat is stored (hosts.last_seen_at) so every replica's Workers page sees it,
        // queued behind the host's cache writes like any other fact of the connection.
        onPong: () => queue.push({ what: "heartbeat", run: () => deps.hosts.touch(host.id) }),
        onClose: () => {
          if (live.get(host.id) === conn) {
            live.delete(host.id);
            syncPinger();
            // Not "seen" now: the last heartbeat stays the last sign of life, so an agent that
            // went silent before its connection was given up on is not made to look fresh.
            void realtime.publish(topics.hosts(host.org_id), { host_id: host.id, online: false });
            deps.events.emit("agent.disconnected", { host });
          }
        },
      });
      const h = hello ?? await conn.hello;
      await deps.hosts.recordHello(host.id, h);
      const previous = live.get(host.id);
      live.set(host.id, conn);
      syncPinger();
      previous?.close(CLOSE.REPLACED, "replaced by a newer connection");
      void realtime.publish(topics.hosts(host.org_id), { host_id: host.id, online: true });
      deps.events.emit("agent.connected", { host });
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

    /** Resolves once the host's queued cache updates are applied (tests). */
    async updatesIdle(hostId: string): Promise<void> {
      await queues.get(hostId)?.idle();
    },

    close(): void {
      unsubscribe();
      for (const q of queues.values()) q.close();
      queues.clear();
      for (const c of live.values()) c.close(1001, "hub shutting down");
      live.clear();
      syncPinger();
    },
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
