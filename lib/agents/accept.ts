import type { Services } from "../../services.ts";
import type { Host } from "../hosts/service.ts";
import type { ActionContext } from "../audit/service.ts";
import { AgentConnection } from "./connection.ts";
import { CLOSE, type Hello, PROTOCOL_VERSION } from "../protocol/messages.ts";
import type { Transport } from "../protocol/transport.ts";
import { auditForeignMachine, isBoundMachine } from "./machine_binding.ts";

/** An agent has this long after the upgrade to say hello. */
export const HELLO_TIMEOUT_MS = 10_000;

/** Resolves with the hello, or undefined when none came in time (or the socket closed first). */
async function awaitHello(conn: AgentConnection, ms: number): Promise<Hello | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      conn.hello,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Takes an upgraded agent socket whose host token the guard already accepted: waits for the hello,
 * refuses (4003, audited as `host.token_refused`) a token presented by another machine than the
 * one it was bound to at enrollment, and hands the connection to the registry otherwise.
 */
export async function acceptAgent(
  services: Pick<Services, "agents" | "audit" | "hosts" | "log">,
  host: Host,
  transport: Transport,
  ctx: ActionContext,
  helloTimeoutMs = HELLO_TIMEOUT_MS,
): Promise<AgentConnection | undefined> {
  const conn = new AgentConnection(transport);
  const hello = await awaitHello(conn, helloTimeoutMs);
  if (!hello) {
    conn.close(CLOSE.BAD_HELLO, "no hello in time");
    return undefined;
  }
  if (hello.protocol !== PROTOCOL_VERSION) {
    conn.close(
      CLOSE.BAD_HELLO,
      `protocol ${hello.protocol} is not supported (the hub speaks ${PROTOCOL_VERSION})`,
    );
    return undefined;
  }
  if (!isBoundMachine(host, hello.machine_id)) {
    await auditForeignMachine(services, host, ctx, {
      machineId: hello.machine_id,
      hostname: hello.hostname,
      via: "websocket",
    });
    conn.close(CLOSE.TOKEN_REFUSED, "this host token is bound to another machine");
    return undefined;
  }
  // Removed while the hello was on its way: the token is no longer good.
  const current = await services.hosts.byId(host.id);
  if (!current || current.machine_id !== host.machine_id) {
    conn.close(CLOSE.HOST_REMOVED, "host removed");
    return undefined;
  }
  return await services.agents.adopt(current, conn, hello);
}
