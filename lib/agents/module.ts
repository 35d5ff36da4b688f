/**
 * The agents feature: the registry of connected agents (what they report goes out as domain
 * events, lib/agents/events.ts), shared log and stats streams, and the hub's embedded agent for
 * its own Docker engine.
 */
import { defineModule } from "../module.ts";
import type { Hosts } from "../hosts/service.ts";
import type { Metrics } from "../metrics/service.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import { type AgentRegistry, createAgentRegistry } from "./registry.ts";
import { createStreamHub } from "./stream_hub.ts";
import { socketExists, startEmbeddedAgent } from "./embedded.ts";

export const agentsModule = defineModule<
  { agents: AgentRegistry; streams: ReturnType<typeof createStreamHub> },
  { hosts: Hosts }
>({
  name: "agents",
  deps: ["hosts"],
  services: (core, { hosts }) => {
    const agents = createAgentRegistry({
      hosts,
      bus: core.bus,
      realtime: core.realtime,
      log: core.log,
      events: core.events,
      heartbeat: core.config.workerHeartbeat,
    });
    // Shared container log/stats streams: one agent stream per container, however many viewers.
    const streams = createStreamHub({ connect: (hostId) => agents.require(hostId), log: core.log });
    return { agents, streams };
  },
  topics: topicRoles([topics.hosts, topics.containers]),
  start: ({ agents }, core, all) => {
    const { config } = core;
    if (!config.localAgent || !socketExists(config.dockerSocket)) return;
    // Before the islands build and the HTTP server: the hub's own host is sampled from the first
    // moment, not seconds (a rebuild: tens of seconds) into a restart.
    const embedded = startEmbeddedAgent({
      db: core.db,
      bus: core.bus,
      log: core.log,
      hosts: all.hosts as Hosts,
      agents,
      metrics: all.metrics as Metrics | undefined,
      socketPath: config.dockerSocket,
      dataDir: config.dataDir,
    });
    return () => embedded.stop();
  },
  stop: ({ agents, streams }) => {
    streams.close();
    agents.close();
  },
});
