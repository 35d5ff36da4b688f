import type { ActionContext } from "../audit/service.ts";
import type { Services } from "../../services.ts";
import { UPDATE_CHECK_OP } from "../protocol/release.ts";
import { conflict, HttpError } from "../http/errors.ts";

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
    try {
      const answer = await services.agents.require(host.id).call<{ accepted?: boolean }>(
        UPDATE_CHECK_OP,
        {},
        15_000,
      );
      return { accepted: answer?.accepted === true };
    } catch (err) {
      if (err instanceof HttpError && err.code === "unknown_op") {
        throw conflict(
          `The agent of "${host.name}" does not update itself: it runs as the JavaScript bundle or predates self-update; reinstall it with install.sh once a release is rolled out to every host`,
        );
      }
      throw err;
    }
  });
}
