/**
 * Which agent runs the repository chores of a target (a connection test, a `restic check`): they
 * touch no volume, so any online host of the org will do. The caller may name one; otherwise the
 * hub's own host (the embedded agent) is preferred, since it is the one most likely to reach what
 * the admin just typed in, and then the first online host by name.
 */
import { Invalid, Unavailable } from "../errors.ts";
import type { Host } from "../hosts/service.ts";

/** What an agent call needs of a connection. */
export interface AgentCaller {
  call<T = unknown>(op: string, params: unknown, timeoutMs?: number): Promise<T>;
}

export interface OnlineAgentDeps {
  hosts: { list(orgId: string): Promise<Host[]> };
  agents: { isOnline(hostId: string): boolean; require(hostId: string): AgentCaller };
}

/** An online agent of the org: `hostId` when given (400 naming `host_id` when not usable). */
export function createAgentPicker(deps: OnlineAgentDeps) {
  return async function pickAgent(
    orgId: string,
    hostId?: string,
  ): Promise<{ host: Host; agent: AgentCaller }> {
    const hosts = await deps.hosts.list(orgId);
    if (hostId) {
      const host = hosts.find((h) => h.id === hostId);
      if (!host) {
        throw new Invalid("No such host", { host_id: "is not a host of this organization" });
      }
      if (!deps.agents.isOnline(host.id)) {
        throw new Invalid("Host offline", { host_id: `host "${host.name}" is offline` });
      }
      return { host, agent: deps.agents.require(host.id) };
    }
    const online = hosts.filter((h) => deps.agents.isOnline(h.id));
    const host = online.find((h) => h.local === 1) ?? online[0];
    if (!host) {
      throw new Unavailable("No host of this organization is online to reach the target from");
    }
    return { host, agent: deps.agents.require(host.id) };
  };
}

export type AgentPicker = ReturnType<typeof createAgentPicker>;

/** An agent call's error as a message, with every secret of the call cut out. */
export function agentMessage(err: unknown, secrets: (string | undefined)[]): string {
  let message = err instanceof Error ? err.message : String(err);
  for (const s of secrets) if (s) message = message.split(s).join("…");
  return message.slice(0, 2000);
}
