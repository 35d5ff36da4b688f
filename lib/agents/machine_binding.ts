import type { Services } from "../../services.ts";
import type { Host } from "../hosts/service.ts";
import type { ActionContext } from "../audit/service.ts";

/** Whether a host token was presented by the machine it is bound to (an unbound host has none). */
export function isBoundMachine(host: { machine_id: string | null }, presented: unknown): boolean {
  return Boolean(host.machine_id) && presented === host.machine_id;
}

/**
 * Audits `host.token_refused` for a host token presented by another machine than the one it was
 * bound to at enrollment (on the WebSocket and on metric reports alike).
 */
export async function auditForeignMachine(
  services: Pick<Services, "audit">,
  host: Host,
  ctx: ActionContext,
  presented: { machineId: string | undefined; hostname?: string; via: "websocket" | "report" },
): Promise<void> {
  await services.audit.record({
    ctx: {
      ...ctx,
      actor: { type: "anonymous", name: `agent on ${presented.hostname ?? "an unknown machine"}` },
    },
    orgId: host.org_id,
    action: "host.token_refused",
    target: { type: "host", id: host.id, name: host.name },
    status: "error",
    error: "The host token was presented by another machine than the one it is bound to",
    durationMs: 0,
    metadata: {
      presented_machine_id: presented.machineId ?? null,
      hostname: presented.hostname ?? null,
      via: presented.via,
    },
  });
}
