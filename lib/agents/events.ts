/**
 * What the agent registry tells other modules (lib/events.ts): an agent connected, a container
 * event arrived, the container cache changed, health results arrived, an agent went. The registry does not know
 * who listens (alerts and health do).
 */
import type { ContainerEvent } from "../alerts/kinds/mod.ts";
import type { HealthResult } from "../protocol/health.ts";

/** The host an agent event is about. */
export interface AgentHost {
  id: string;
  org_id: string;
}

declare module "../events.ts" {
  interface DomainEvents {
    /** A host's agent finished its hello and is live on this replica. */
    "agent.connected": { host: AgentHost };
    /** A host's live agent connection on this replica closed (the host shows offline). */
    "agent.disconnected": { host: AgentHost };
    /** A container event as the agent sent it, before the cache applies it. */
    "agent.container_event": { host: AgentHost; event: ContainerEvent };
    /** The cache applied a snapshot (no event) or a container event. */
    "agent.containers_changed": { host: AgentHost; event?: ContainerEvent };
    /** Health-check results an agent reported. */
    "agent.health_results": { host: AgentHost; results: HealthResult[] };
  }
}
