import type { ActionContext } from "../audit/service.ts";
import type { Services } from "../services.ts";
import { UPDATE_CHECK_OP } from "../protocol/release.ts";

/**
 * Asks a host's connected agent to check for an update now (the host page's "Update agent").
 * The agent answers at once and checks in the background; an agent too old to know the operation
 * answers "unknown operation", which the caller shows as it is.
 */
export async function requestAgentUpdate(
  services: Services,
  ctx: ActionContext,
  orgId: string,
  hostId: string,
): Promise<{ accepted: boolean }> {
  const host = await services.hosts.get(orgId, hostId);
  return await services.audit.run(ctx, "host.agent_update_requested", {
    orgId,
    target: { type: "host", id: host.id, name: host.name },
  }, async () => {
    const answer = await services.agents.require(host.id).call<{ accepted?: boolean }>(
      UPDATE_CHECK_OP,
      {},
      15_000,
    );
    return { accepted: answer?.accepted === true };
  });
}
