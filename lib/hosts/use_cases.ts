/**
 * Host use cases that span the hosts service and the agent registry: adding a host with its first
 * enrollment, rotating its token, removing it. The API and the pages both call these, so a token
 * rotated or a host removed from either cuts its agent off the same way.
 */
import type { ActionContext } from "../audit/service.ts";
import { installCommand } from "../agents/install_script.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import { CLOSE } from "../protocol/messages.ts";
import type { Host, Hosts } from "./service.ts";

/** What the host use cases need: the hosts service and the live agents. */
export interface HostUseCaseDeps {
  hosts: Pick<Hosts, "create" | "rotateToken" | "remove">;
  agents: Pick<AgentRegistry, "deliverToken" | "disconnect">;
}

/** A new host and its first single-use enrollment, with the command that installs the agent. */
export interface AddedHost {
  host: Host;
  enrollment: { token: string; expiresAt: number; installCommand: string };
}

/** Adds a host to an organization and issues its first enrollment token. */
export async function addHost(
  deps: Pick<HostUseCaseDeps, "hosts">,
  ctx: ActionContext,
  orgId: string,
  input: { name: string; labels?: Record<string, string> },
  hubUrl: string,
): Promise<AddedHost> {
  const r = await deps.hosts.create(ctx, orgId, input);
  return {
    host: r.host,
    enrollment: {
      token: r.enrollment.token,
      expiresAt: r.enrollment.expiresAt,
      installCommand: installCommand(hubUrl, r.enrollment.token),
    },
  };
}

/** Rotates a host's token and hands it to the live agent (`delivered` says whether it took it). */
export async function rotateHostToken(
  deps: HostUseCaseDeps,
  ctx: ActionContext,
  orgId: string,
  hostId: string,
): Promise<{ host_token: string; delivered: boolean }> {
  const token = await deps.hosts.rotateToken(ctx, orgId, hostId);
  const delivered = await deps.agents.deliverToken(hostId, token);
  // Wherever else the agent may be connected (another replica), the old token is dead: drop it.
  if (!delivered) deps.agents.disconnect(hostId, CLOSE.DISCONNECTED, "host token rotated");
  return { host_token: token, delivered };
}

/** Removes a host and cuts its agent off at once, on every replica. */
export async function removeHostNow(
  deps: HostUseCaseDeps,
  ctx: ActionContext,
  orgId: string,
  hostId: string,
  keepHistory: boolean,
): Promise<void> {
  await deps.hosts.remove(ctx, orgId, hostId, { keepHistory });
  deps.agents.disconnect(hostId, CLOSE.HOST_REMOVED, "host removed");
}
